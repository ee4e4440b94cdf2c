"""`make bench-payments`: what the webhook ingress and a checkout cost, as ratios of their
bare SQL measured side by side in one run.

1. Webhook ingress: a signed Connect event through the real route (signature verified with
   the tolerance, shape and mode checked, stored with ON CONFLICT DO NOTHING, committed,
   queued) against its bare SQL on the same app_webhook connection (the same INSERT and
   COMMIT, and the same send to the queue: an in-memory list, so the figure is the
   backend's own cost; in AWS the SQS send adds its latency to both).
2. Checkout (2 lines) through the real route, warm, in-process, against the fake Stripe,
   against (a) its bare SQL (the same context read and insert, one transaction, on the same
   connection as the superuser) and (b) that SQL plus the same PaymentIntent call made
   directly with the SDK: Stripe's answer dominates, so (b) is the fair denominator.

It reports and never fails: figures belong in docs/benchmarks.md ("Payments").
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "tenancy", _ROOT / "functions", _ROOT):
    if str(_path) not in sys.path:  # `python -m bench.payments` without `make`'s PYTHONPATH
        sys.path.insert(0, str(_path))

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

from bench.stack import OneConnection, api_event, bench_database, quiet_request_logs  # noqa: E402
from bench.timing import Samples, interleaved  # noqa: E402
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey  # noqa: E402
from infra.local.seed import CENTRALE, USER, menu_item_id, start_demo_session  # noqa: E402
from payments import queries as payment_queries  # noqa: E402
from tenancy.bindings import BindingKey  # noqa: E402
from tenancy.catalogue import discover  # noqa: E402
from tenancy.db import connect  # noqa: E402
from tenancy.payments import StripeApi, WebhookMessage, WebhookQueue, WebhookSecrets  # noqa: E402
from tenancy.runtime import Runtime  # noqa: E402
from tenancy.spec import DbRole  # noqa: E402
from tenancy.tokens import StaticKeySource, TokenVerifier  # noqa: E402
from tests.support.fake_stripe import FakeStripe  # noqa: E402
from tests.support.payments import event_body, signature  # noqa: E402
from webhooks.ingress import STORE  # noqa: E402

WARMUP = 30
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "300"))
CHECKOUT_ROUNDS = int(os.environ.get("BENCH_CHECKOUT_ROUNDS", "150"))
INGRESS_ROUTE = "POST /webhooks/stripe/connect"
CHECKOUT_ROUTE = "POST /venues/{venue_id}/checkouts"
LINES = [(menu_item_id("Tagliatelle al ragù"), 2), (menu_item_id("Tiramisù"), 1)]


def _progress(message: str) -> None:
    print(f"[bench.payments] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def _signed(count: int) -> list[tuple[bytes, str]]:
    bodies = [event_body("payment_intent.created", account="acct_bench") for _ in range(count)]
    return [(body, signature(body, FakeStripe.connect_webhook_secret)) for body in bodies]


def main() -> int:
    routes = {d.spec.route_key: d.route for d in discover(_ROOT / "functions")}
    key = SigningKey.generate()
    with (
        bench_database() as bench,
        FakeStripe() as fake,
        open(os.devnull, "w") as null,
    ):
        database = bench.database
        webhook_conn = connect(database.webhook_url)
        venue_conn = connect(database.venue_url)
        bare_conn = connect(database.admin_url)
        sent: list[WebhookMessage] = []
        stripe_api = StripeApi(secret_key=fake.secret_key, api_base=fake.api_base)
        runtime = Runtime(
            databases={
                DbRole.WEBHOOK: OneConnection(webhook_conn),
                DbRole.VENUE: OneConnection(venue_conn),
            },
            verifier=TokenVerifier(
                issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(key.jwks())
            ),
            binding_key=BindingKey.from_setting(database.binding_key),
            collaborators={
                StripeApi: stripe_api,
                WebhookSecrets: WebhookSecrets(
                    platform=fake.platform_webhook_secret, connect=fake.connect_webhook_secret
                ),
                WebhookQueue: WebhookQueue(sent.append),
            },
        )
        # The gate's log line stays part of the route's cost, written to /dev/null.
        quiet_request_logs(null)

        # --- 1. ingress ---------------------------------------------------------------------
        _progress("webhook ingress")
        ingress = routes[INGRESS_ROUTE]
        signed_route = iter(_signed(WARMUP + ROUNDS))
        bare_bodies = iter(_signed(WARMUP + ROUNDS))

        def through_route() -> None:
            body, header = next(signed_route)
            event = api_event("POST", "/webhooks/stripe/connect", {}, None, body=body.decode())
            event["headers"]["stripe-signature"] = header
            answer = ingress.invoke(event, runtime)
            assert answer["statusCode"] == 200, answer

        def bare_ingress() -> None:
            body, _ = next(bare_bodies)
            parsed = json.loads(body)
            with webhook_conn.request():
                webhook_conn.execute("BEGIN")
                webhook_conn.execute(
                    STORE,
                    {
                        "id": parsed["id"],
                        "endpoint": "connect",
                        "type": parsed["type"],
                        "account": parsed["account"],
                        "livemode": False,
                        "created": parsed["created"],
                        "body": body.decode(),
                    },
                )
                webhook_conn.execute("COMMIT")
            sent.append(WebhookMessage(parsed["id"], parsed["account"]))

        ingress_samples = interleaved(
            [("route", through_route), ("bare SQL", bare_ingress)],
            warmup=WARMUP,
            iterations=ROUNDS,
        )

        # --- 2. checkout ----------------------------------------------------------------------
        _progress("checkout (onboarding centrale on the fake)")
        client = stripe_api.client()
        account = client.v1.accounts.create(
            {"type": "express", "metadata": {"venue_id": str(CENTRALE)}}
        )
        fake.complete_onboarding(account.id)
        bare_conn.execute(
            "INSERT INTO payment_accounts (venue_id, stripe_account_id, charges_enabled,"
            " payouts_enabled, details_submitted) VALUES (%s, %s, true, true, true)",
            (CENTRALE, account.id),
        )
        bare_conn.sync()
        session_id, amr = start_demo_session(database.admin_url, USER["waiter"].id)
        token = key.access_token(
            USER["waiter"].id,
            issuer=LOCAL_ISSUER,
            audience=LOCAL_AUDIENCE,
            sid=str(session_id),
            amr=amr,
        )
        checkout = routes[CHECKOUT_ROUTE]
        items = [item for item, _ in LINES]

        def checkout_body() -> str:
            return json.dumps(
                {
                    "lines": [{"item_id": str(i), "quantity": q} for i, q in LINES],
                    "idempotency_key": f"bench-{uuid.uuid4().hex}",
                }
            )

        def checkout_route() -> None:
            event = api_event(
                "POST",
                "/venues/{venue_id}/checkouts",
                {"venue_id": str(CENTRALE)},
                token,
                body=checkout_body(),
            )
            answer = checkout.invoke(event, runtime)
            assert answer["statusCode"] == 201, answer

        def bare_sql(with_stripe: bool) -> None:
            key_ = f"bench-{uuid.uuid4().hex}"
            with bare_conn.request():
                bare_conn.execute("BEGIN")
                context = payment_queries.checkout_context(bare_conn, CENTRALE, key_, items)
                amount = sum(int(context["priced"][str(i)]["price_cents"]) * q for i, q in LINES)
                intent_id = f"pi_bare{uuid.uuid4().hex}"
                if with_stripe:
                    intent_id = client.v1.payment_intents.create(
                        {
                            "amount": amount,
                            "currency": "eur",
                            "application_fee_amount": 88,
                            "automatic_payment_methods": {"enabled": True},
                            "metadata": {"checkout_id": "bench", "venue_id": str(CENTRALE)},
                        },
                        {"stripe_account": account.id, "idempotency_key": key_},
                    ).id
                payment_queries.insert_checkout(
                    bare_conn,
                    id=uuid.uuid4(),
                    venue=CENTRALE,
                    key=key_,
                    intent=intent_id,
                    account=account.id,
                    amount=amount,
                    currency="EUR",
                    fee=88,
                    table=None,
                    lines=[],
                    user=None,
                )
                bare_conn.execute("COMMIT")

        _progress("checkout")
        checkout_samples = interleaved(
            [
                ("route", checkout_route),
                ("bare SQL", lambda: bare_sql(False)),
                ("bare SQL + Stripe call", lambda: bare_sql(True)),
            ],
            warmup=10,
            iterations=CHECKOUT_ROUNDS,
        )
        for conn in (webhook_conn, venue_conn, bare_conn):
            conn.close()
        report(ingress_samples, checkout_samples, bench.origin, bench.server_version)
    return 0


def report(
    ingress: list[Samples], checkout: list[Samples], origin: str, server_version: str
) -> None:
    print(
        f"bench.payments {dt.date.today().isoformat()} on {platform.node() or 'this machine'}"
        f" ({os.cpu_count()} CPUs, Python {platform.python_version()}, Postgres"
        f" {server_version}, {origin}); medians of {ROUNDS} / {CHECKOUT_ROUNDS} interleaved"
        " rounds"
    )
    route, bare = ingress
    print("1. Webhook ingress (verify, store once, commit, queue)")
    print(f"   route                   {_ms(route.median)}  p90 {_ms(route.p90)}")
    print(f"   bare SQL + queue        {_ms(bare.median)}  p90 {_ms(bare.p90)}")
    print(f"   ratio                   {route.median / bare.median:8.2f} x")
    whole, sql, with_stripe = checkout
    print("2. Checkout, 2 lines (priced, a PaymentIntent on the fake Stripe, the draft stored)")
    print(f"   route                   {_ms(whole.median)}  p90 {_ms(whole.p90)}")
    print(f"   bare SQL                {_ms(sql.median)}  p90 {_ms(sql.p90)}")
    print(f"   bare SQL + Stripe call  {_ms(with_stripe.median)}  p90 {_ms(with_stripe.p90)}")
    print(f"   route / (SQL + Stripe)  {whole.median / with_stripe.median:8.2f} x")
    print(
        "   route - Stripe call     "
        f"{_ms(whole.median - (with_stripe.median - sql.median))}"
        f"  ({(whole.median - (with_stripe.median - sql.median)) / sql.median:.2f} x bare SQL)"
    )


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    _progress(f"done in {time.perf_counter() - started:.0f} s")
    sys.exit(code)
