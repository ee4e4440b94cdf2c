"""`make dev`: the whole backend on this machine.

Embedded Postgres (kept in .dev/postgres), migrations, demo data, the AWS emulator, and the
local gateway on 127.0.0.1 in front of the real handlers. Ctrl-C stops everything.

The URL it serves on is recorded in its state folder (DEV_STATE_DIR, by default .dev/) while
it runs, so `make token` finds it on any PORT.
"""

from __future__ import annotations

import os
import secrets
import shlex
import signal
import threading
from urllib.parse import urlencode

from auth.config import Issuer
from infra.local import aws, postgres, state
from infra.local.gateway import LocalGateway, serve
from infra.local.issuer import local_issuer
from infra.local.keys import LOCAL_AUDIENCE
from infra.local.mailbox import LocalMailbox
from infra.local.seed import CENTRALE, DEMO_PASSWORD, SPA_CLIENT_ID, USERS, VENUES, seed
from infra.local.signin import REDIRECT_URI, authorization_query, new_verifier
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.runtime import Runtime, install_runtime
from tenancy.spec import DbRole
from tenancy.tokens import JwksKeySource, TokenVerifier

ROOT = state.ROOT
STATE = state.state_dir()
HOST = state.HOST


def token_command(user: str) -> str:
    """The `make token` line for this stack, as it can be pasted in another terminal."""
    command = f"make -s token USER={user}"
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
        *browser_sign_in(url, verifier or new_verifier()),
        "(`make mail` shows the mail the issuer sent, such as password-reset links.)",
        "",
        f"Demo users (password {DEMO_PASSWORD!r}; the platform admin also needs a TOTP code,",
        "which `make token` computes from the demo secret):",
    ]
    for user in USERS:
        where = ", ".join(f"{slug} ({role.value})" for slug, role in user.attachments.items())
        lines.append(f"  {user.key:<15} {user.email:<30} {where or 'platform admin'}")
    lines += ["", "Ctrl-C stops everything."]
    return "\n".join(lines)


def main() -> None:
    port = int(os.environ.get("PORT", state.DEFAULT_PORT))
    aws_port = int(os.environ.get("AWS_PORT", "5055"))

    print("starting Postgres ...", flush=True)
    server_url = os.environ.get("DATABASE_URL") or postgres.server_url(
        STATE / "postgres", delete_on_exit=False
    )
    database = postgres.prepare(server_url, "venue_dev", fresh=False)
    seed(database.admin_url)

    print("starting the AWS emulator ...", flush=True)
    moto_server, endpoint = aws.start(HOST, aws_port)
    resources = aws.provision(endpoint, database.venue_url)

    url = f"http://{HOST}:{port}"
    issuer = local_issuer(
        aws.client(endpoint, "kms"),
        token_issuer=url,
        signing_key_id=resources.signing_key_id,
        mailer=LocalMailbox(STATE / "mailbox"),
    )
    # The gate and the gateway's authorizer read the issuer's keys as in AWS: from its JWKS.
    keys = JwksKeySource(f"{url}/.well-known/jwks.json")
    databases = {
        DbRole.VENUE: PooledConnections(database.venue_url),
        DbRole.ISSUER: PooledConnections(database.issuer_url),
    }
    runtime = Runtime(
        databases=databases,
        verifier=TokenVerifier(issuer=url, audience=LOCAL_AUDIENCE, keys=keys),
        binding_key=BindingKey.from_setting(database.binding_key),
        collaborators={Issuer: issuer},
    )
    install_runtime(runtime)
    gateway = LocalGateway(runtime, keys=keys, issuer=url, audience=LOCAL_AUDIENCE)
    http = serve(gateway, HOST, port)
    state.announce(url)

    print(
        f"\nvenue backend listening on {url}  ({len(gateway.routes)} routes from template.yaml)\n"
        f"AWS emulator on {endpoint}: audit queue {resources.audit_queue_url}, "
        f"bucket {resources.audit_bucket} (object lock)\n"
        f"Postgres (admin): {database.admin_url}\n",
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
        for source in databases.values():
            source.close()
        moto_server.stop()
        install_runtime(None)


if __name__ == "__main__":
    main()
