"""Stripe's webhook ingress: only a delivery signed with the endpoint's own secret, within
the timestamp tolerance, in this deployment's mode, is stored (once, by event id) and
queued; every other one is refused with nothing stored."""

from __future__ import annotations

import json
import time
from collections.abc import Callable

import psycopg
import pytest

from tests.support.fake_stripe import FakeStripe
from tests.support.payments import Payments, event_body, signature

PLATFORM_SECRET = FakeStripe.platform_webhook_secret
CONNECT_SECRET = FakeStripe.connect_webhook_secret


def stored(admin_db: psycopg.Connection, body: bytes) -> int:
    event_id = json.loads(body)["id"]
    row = admin_db.execute("SELECT count(*) FROM stripe_events WHERE id = %s", (event_id,))
    found = row.fetchone()
    assert found is not None
    return int(found[0])


def test_a_signed_connect_event_is_stored_once_and_queued_each_time(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a Connect event signed with the Connect secret, when it arrives twice (Stripe
    retries), then both are answered 200, it is stored once, and queued both times (the
    processor is idempotent)."""
    body = event_body("payment_intent.created", account="acct_ingresstest")
    payments.queue.take()

    first = payments.post("connect", body, signature(body, CONNECT_SECRET))
    again = payments.post("connect", body, signature(body, CONNECT_SECRET))

    assert (first.status, again.status) == (200, 200)
    assert first.json() == {"received": True, "event_id": json.loads(body)["id"]}
    assert stored(admin_db, body) == 1
    assert [m.event_id for m in payments.queue.take()] == [json.loads(body)["id"]] * 2
    raw = admin_db.execute(
        "SELECT body, status, endpoint FROM stripe_events WHERE id = %s", (json.loads(body)["id"],)
    ).fetchone()
    assert raw == (body.decode(), "received", "connect")


def test_an_unknown_type_is_stored_acknowledged_and_ignored(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    body = event_body("customer.created", account=None, obj={"id": "cus_1", "object": "customer"})
    payments.queue.take()

    response = payments.post("platform", body, signature(body, PLATFORM_SECRET))
    outcomes = payments.process_queued()

    assert response.status == 200
    assert outcomes == ["ignored"]
    status = admin_db.execute(
        "SELECT status FROM stripe_events WHERE id = %s", (json.loads(body)["id"],)
    ).fetchone()
    assert status == ("ignored",)


REFUSALS: dict[str, tuple[str, Callable[[bytes], str]]] = {
    "forged signature": ("connect", lambda body: signature(body, "whsec_not_stripes")),
    "the platform secret on the Connect endpoint": (
        "connect",
        lambda body: signature(body, PLATFORM_SECRET),
    ),
    "the Connect secret on the platform endpoint": (
        "platform",
        lambda body: signature(body, CONNECT_SECRET),
    ),
    "a timestamp outside the tolerance": (
        "connect",
        lambda body: signature(body, CONNECT_SECRET, int(time.time()) - 301),
    ),
    "a timestamp from the future": (
        "connect",
        lambda body: signature(body, CONNECT_SECRET, int(time.time()) + 3600),
    ),
    "a signature over other bytes": (
        "connect",
        lambda body: signature(body + b" ", CONNECT_SECRET),
    ),
    "no v1 signature": ("connect", lambda body: f"t={int(time.time())}"),
}


@pytest.mark.parametrize("case", sorted(REFUSALS))
def test_a_delivery_whose_signature_does_not_verify_is_refused_and_nothing_stored(
    payments: Payments, admin_db: psycopg.Connection, case: str
) -> None:
    endpoint, sign = REFUSALS[case]
    account = "acct_ingresstest" if endpoint == "connect" else None
    body = event_body("payment_intent.succeeded", account=account)
    payments.queue.take()

    response = payments.post(endpoint, body, sign(body))

    assert response.status == 400, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "invalid-signature"
    assert stored(admin_db, body) == 0
    assert payments.queue.take() == []


def test_a_real_delivery_replayed_after_the_tolerance_is_refused(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a delivery the fake Stripe really signed, when it is replayed (its body and
    signature header byte for byte) once its timestamp is older than the tolerance, then it
    is refused and nothing is stored: the timestamp is inside the signature."""
    import stripe

    client = stripe.StripeClient(
        payments.fake.secret_key, base_addresses={"api": payments.fake.api_base}
    )
    seq = payments.fake.last_seq()
    account = client.v1.accounts.create({"type": "express"})
    payments.fake.complete_onboarding(account.id)
    (delivery,) = [d for d in payments.fake.deliveries(after=seq) if d["endpoint"] == "connect"]
    stamp, _, rest = delivery["signature"].partition(",")
    old = int(stamp.removeprefix("t=")) - 600
    body = delivery["body"].encode()
    captured = {**delivery, "signature": f"t={old},{rest}"}

    response = payments.deliver(captured)

    assert response.status == 400
    assert response.json()["code"] == "invalid-signature"
    assert stored(admin_db, body) == 0


def test_an_event_of_the_other_mode_is_refused_and_nothing_stored(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a test-mode deployment, when a correctly signed live-mode event arrives, then it
    is refused (livemode-mismatch) and nothing is stored."""
    body = event_body("payment_intent.succeeded", account="acct_ingresstest", livemode=True)

    response = payments.post("connect", body, signature(body, CONNECT_SECRET))

    assert (response.status, response.json()["code"]) == (400, "livemode-mismatch")
    assert stored(admin_db, body) == 0


def test_a_connect_event_must_name_its_account_and_a_platform_event_must_not(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    without = event_body("payment_intent.succeeded", account=None)
    with_account = event_body("payment_intent.succeeded", account="acct_ingresstest")

    on_connect = payments.post("connect", without, signature(without, CONNECT_SECRET))
    on_platform = payments.post("platform", with_account, signature(with_account, PLATFORM_SECRET))

    assert (on_connect.status, on_connect.json()["code"]) == (400, "invalid-event")
    assert (on_platform.status, on_platform.json()["code"]) == (400, "invalid-event")
    assert stored(admin_db, without) + stored(admin_db, with_account) == 0


def test_bad_bodies_and_a_missing_header_are_refused_and_nothing_stored(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    before = admin_db.execute("SELECT count(*) FROM stripe_events").fetchone()
    good = event_body("payment_intent.succeeded", account="acct_ingresstest")
    not_json = b'{"id": "evt_x", '
    not_an_event = b'["evt_x"]'
    oversized = b'{"pad": "' + b"x" * 70_000 + b'"}'

    missing_header = payments.post("connect", good, None)
    bad_json = payments.post("connect", not_json, signature(not_json, CONNECT_SECRET))
    not_event = payments.post("connect", not_an_event, signature(not_an_event, CONNECT_SECRET))
    too_big = payments.post("connect", oversized, signature(oversized, CONNECT_SECRET))
    empty = payments.post("connect", b"", signature(b"", CONNECT_SECRET))

    assert (missing_header.status, missing_header.json()["code"]) == (400, "missing-signature")
    assert (bad_json.status, bad_json.json()["code"]) == (400, "malformed-json")
    assert (not_event.status, not_event.json()["code"]) == (400, "invalid-event")
    assert (too_big.status, too_big.json()["code"]) == (413, "body-too-large")
    assert empty.status == 400
    assert admin_db.execute("SELECT count(*) FROM stripe_events").fetchone() == before
