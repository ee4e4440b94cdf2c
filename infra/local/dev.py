"""`make dev`: the whole backend on this machine.

Embedded Postgres (kept in .dev/postgres), migrations, demo data, the AWS emulator, the
local gateway on 127.0.0.1 in front of the real handlers, and the audit pipeline: the gate
relays each request's audit events to the emulator's queue, the consumer takes them from
there (as Lambda's event source would) into audit_log and the object-locked bucket, and the
sweeper runs every few seconds. Ctrl-C stops everything.

The URL it serves on is recorded in its state folder (DEV_STATE_DIR, by default .dev/) while
it runs, so `make token` finds it on any PORT.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import secrets
import shlex
import signal
import threading
from typing import Any
from urllib.parse import urlencode

from audit.alerts import Publisher
from audit.consume import consume
from audit.copies import BucketCopies
from audit.pipeline import AuditPipeline
from audit.sweep import sweep
from auth.config import Issuer
from customers.config import DinerKeys
from infra.audit_local import STATE_FILE, Pipeline, write_state
from infra.local import aws, postgres, state
from infra.local.audit import LocalAuditWorkers
from infra.local.fake_stripe.local import URL_FILE as STRIPE_URL_FILE
from infra.local.fake_stripe.local import start_for_dev as start_fake_stripe
from infra.local.gateway import LocalGateway, serve
from infra.local.issuer import local_issuer
from infra.local.keys import LOCAL_AUDIENCE
from infra.local.mailbox import LocalMailbox
from infra.local.seed import (
    CENTRALE,
    DEMO_PASSWORD,
    INVITED_EMAIL,
    LOCAL_PIN_PEPPER,
    SPA_CLIENT_ID,
    USERS,
    VENUES,
    demo_diner_keys,
    seed,
)
from infra.local.signin import REDIRECT_URI, authorization_query, new_verifier
from infra.local.webhooks import LocalWebhookWorker
from infra.payments_events import STATE_FILE as PAYMENTS_STATE
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.invitations import Invitations
from tenancy.log import Log
from tenancy.payments import StripeApi, WebhookQueue, WebhookSecrets
from tenancy.pins import PinPepper
from tenancy.relay import SqsRelay
from tenancy.runtime import Runtime, install_runtime
from tenancy.spec import DbRole
from tenancy.tokens import JwksKeySource, TokenVerifier
from webhooks.processor import Processor

ROOT = state.ROOT
STATE = state.state_dir()
HOST = state.HOST


def _here(command: str) -> str:
    """``command`` as it can be pasted in another terminal (naming this stack's state)."""
    if STATE.resolve() != state.DEFAULT_STATE_DIR.resolve():
        command = f"DEV_STATE_DIR={shlex.quote(str(STATE))} {command}"
    return command


def browser_sign_in(url: str, verifier: str) -> list[str]:
    """A sign-in a person can do in a browser: the authorization request's URL (the admin
    SPA's, with openid), and the command that exchanges the code the redirect carries."""
    request = url + authorization_query(
        verifier,
        state=secrets.token_urlsafe(12),
        scope="openid profile email account venue",
        nonce=secrets.token_urlsafe(12),
    )
    exchange = urlencode(
        {
            "grant_type": "authorization_code",
            "client_id": SPA_CLIENT_ID,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        }
    )
    return [
        "Sign in through the issuer's page in a browser (no SPA needed): open",
        f"  {request}",
        f"The browser ends on {REDIRECT_URI}?code=...&state=...&iss=... (nothing needs to",
        "listen there: the address bar shows the code). Exchange it within 60 seconds:",
        f"  curl -d '{exchange}' -d code=PASTE_THE_CODE {url}/oauth/token",
    ]


def token_command(user: str) -> str:
    """The `make token` line for this stack, as it can be pasted in another terminal."""
    return _here(f"make -s token USER={user}")


def banner(url: str, verifier: str | None = None) -> str:
    """How to reach the stack at ``url``: the demo venues and people, and commands that work
    as printed."""
    lines = ["Demo venues:"]
    lines += [f"  {slug:<9} {venue_id}  {name}" for slug, (venue_id, _, name) in VENUES.items()]
    lines += [
        "",
        f"Sign a demo user in (authorization code + PKCE) and call the API (in {ROOT}):",
        f"  TOKEN=$({token_command('head_chef')})",
        f'  curl -H "Authorization: Bearer $TOKEN" {url}/me/venues',
        f'  curl -H "Authorization: Bearer $TOKEN" {url}/venues/{CENTRALE}/orders',
        "",
        f"The API's document and an interactive page (paste $TOKEN into Authorize): {url}/docs",
        "",
        *browser_sign_in(url, verifier or new_verifier()),
        "(`make mail` shows the mail the issuer sent, such as password-reset links; nord has",
        f"an invitation pending for {INVITED_EMAIL}: `make mail TO={INVITED_EMAIL}` shows its",
        "link, which creates that account with the password chosen there.)",
        "",
        f"Demo users (password {DEMO_PASSWORD!r}; the platform admin also needs a TOTP code,",
        "which `make token` computes from the demo secret):",
    ]
    for user in USERS:
        where = ", ".join(f"{slug} ({role.value})" for slug, role in user.attachments.items())
        lines.append(f"  {user.key:<15} {user.email:<30} {where or 'platform admin'}")
    lines += [
        "",
        "Every privileged change goes through the audit pipeline within seconds: a chained",
        "row in audit_log and a locked object in the emulator's bucket. Look at both with",
        "  " + _here(f"make -s audit-verify VENUE={CENTRALE} ARGS=--list"),
        "",
        "Ctrl-C stops everything.",
    ]
    return "\n".join(lines)


def audit_pipeline(
    database: postgres.Database, resources: aws.LocalAws
) -> tuple[AuditPipeline, PooledConnections]:
    """The consumer's and the sweeper's wiring on the emulator, and its connections."""
    connections = PooledConnections(database.audit_url, max_size=4)

    def client(service: str) -> Any:
        return aws.client(resources.endpoint, service)

    pipeline = AuditPipeline(
        database=connections,
        copies=BucketCopies(resources.audit_bucket, client=lambda: client("s3")),
        alerts=Publisher(resources.alerts_topic_arn, client=lambda: client("sns")),
        queue_url=resources.audit_queue_url,
        sqs=lambda: client("sqs"),
        # Locally the sweeper runs every few seconds and picks up what is 10 s old.
        sweep_after=dt.timedelta(seconds=10),
    )
    return pipeline, connections


def write_payments_state(database: postgres.Database, stripe_api: StripeApi) -> None:
    """What `make payments-events` and `make payments-replay` connect with."""
    state_file = STATE / PAYMENTS_STATE
    state_file.write_text(
        json.dumps(
            {
                "database_url": database.payments_url,
                "binding_key": database.binding_key,
                "stripe_secret_key": stripe_api.secret_key,
                "stripe_api_base": stripe_api.api_base,
            }
        )
    )
    state_file.chmod(0o600)


def main() -> None:
    port = int(os.environ.get("PORT", state.DEFAULT_PORT))
    aws_port = int(os.environ.get("AWS_PORT", "5055"))

    print("starting Postgres ...", flush=True)
    server_url = os.environ.get("DATABASE_URL") or postgres.server_url(
        STATE / "postgres", delete_on_exit=False
    )
    database = postgres.prepare(server_url, "venue_dev", fresh=False)
    mailbox = LocalMailbox(STATE / "mailbox")
    seed(database.admin_url, mailer=mailbox, issuer_url=f"http://{HOST}:{port}")

    print("starting the AWS emulator ...", flush=True)
    moto_server, endpoint = aws.start(HOST, aws_port)
    resources = aws.provision(endpoint, database.venue_url)

    url = f"http://{HOST}:{port}"
    print("starting the fake Stripe ...", flush=True)
    # Its webhooks go to the gateway's Stripe routes; STRIPE_* point the runtime at it.
    fake_stripe, _ = start_fake_stripe(url, STATE, HOST)
    issuer = local_issuer(
        aws.client(endpoint, "kms"),
        token_issuer=url,
        signing_key_id=resources.signing_key_id,
        mailer=mailbox,
    )
    # The gate and the gateway's authorizer read the issuer's keys as in AWS: from its JWKS.
    keys = JwksKeySource(f"{url}/.well-known/jwks.json")
    databases = {
        DbRole.VENUE: PooledConnections(database.venue_url),
        DbRole.ISSUER: PooledConnections(database.issuer_url),
        DbRole.WEBHOOK: PooledConnections(database.webhook_url, max_size=4),
    }
    sqs = aws.client(endpoint, "sqs")
    # Stripe's webhooks: stored by the routes, applied by the processor in a worker thread.
    stripe_api = StripeApi.from_environment()
    payments_connections = PooledConnections(database.payments_url, max_size=4)
    webhook_worker = LocalWebhookWorker(
        Processor(
            database=payments_connections,
            binding_key=BindingKey.from_setting(database.binding_key),
            stripe=stripe_api,
            relay=SqsRelay(resources.audit_queue_url, client=lambda: sqs),
        )
    )
    webhook_worker.start()
    write_payments_state(database, stripe_api)
    runtime = Runtime(
        databases=databases,
        verifier=TokenVerifier(issuer=url, audience=LOCAL_AUDIENCE, keys=keys),
        binding_key=BindingKey.from_setting(database.binding_key),
        relay=SqsRelay(resources.audit_queue_url, client=lambda: sqs),
        collaborators={
            Issuer: issuer,
            Invitations: Invitations(mailbox, issuer_url=url),
            DinerKeys: demo_diner_keys(),
            PinPepper: PinPepper.from_setting(LOCAL_PIN_PEPPER),
            StripeApi: stripe_api,
            WebhookSecrets: WebhookSecrets.from_environment(),
            WebhookQueue: webhook_worker.queue(),
        },
    )
    install_runtime(runtime)
    pipeline, audit_connections = audit_pipeline(database, resources)
    log = Log()
    workers = LocalAuditWorkers(
        sqs,
        resources.audit_queue_url,
        lambda event, context: consume(event, pipeline, context),
        lambda: sweep(pipeline),
        on_error=lambda where, error: log.warning(
            f"audit {where} failed", error=type(error).__name__
        ),
    )
    workers.start()
    write_state(
        Pipeline(
            database_url=database.audit_url,
            bucket=resources.audit_bucket,
            queue_url=resources.audit_queue_url,
            dlq_url=resources.audit_dlq_url,
            topic_arn=resources.alerts_topic_arn,
            endpoint=endpoint,
        )
    )
    gateway = LocalGateway(runtime, keys=keys, issuer=url, audience=LOCAL_AUDIENCE)
    http = serve(gateway, HOST, port)
    state.announce(url)

    print(
        f"\nvenue backend listening on {url}  ({len(gateway.routes)} routes from template.yaml)\n"
        f"AWS emulator on {endpoint}: audit queue {resources.audit_queue_url}, "
        f"bucket {resources.audit_bucket} (object lock), alerts {resources.alerts_topic_arn}\n"
        f"Postgres (admin): {database.admin_url}\n"
        f"fake Stripe on {fake_stripe.url} (STRIPE_API_BASE; STRIPE_SECRET_KEY and the two "
        "webhook secrets set for the runtime): webhooks to "
        f"{url}/webhooks/stripe and {url}/webhooks/stripe/connect, logged below as "
        "[fake stripe]; a buyer pays a PaymentIntent with "
        f"`{_here('make -s pay PI=pi_...')}`\n",
        flush=True,
    )
    print(banner(url), flush=True)

    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    try:
        stop.wait()
    except KeyboardInterrupt:
        pass
    finally:
        print("\nstopping ...", flush=True)
        state.withdraw(url)
        http.shutdown()
        fake_stripe.stop()
        webhook_worker.stop()
        payments_connections.close()
        (STATE / PAYMENTS_STATE).unlink(missing_ok=True)
        (STATE / STRIPE_URL_FILE).unlink(missing_ok=True)
        workers.stop()
        (STATE / STATE_FILE).unlink(missing_ok=True)
        audit_connections.close()
        for source in databases.values():
            source.close()
        moto_server.stop()
        install_runtime(None)


if __name__ == "__main__":
    main()
