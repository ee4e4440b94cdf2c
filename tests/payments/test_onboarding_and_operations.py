"""A venue's Express account: made once through the route, onboarded on Stripe, its status
kept by account.updated. Operations: stored events listed by status, one replayed (audited)."""

from __future__ import annotations

import psycopg

from infra.local import postgres
from infra.local.seed import NORD, USER
from infra.payments_events import replay
from tests.support.payments import Payments
from webhooks.processor import list_events

OWNER = USER["owner"].id
MANAGER = USER["manager"].id  # nord's manager: every flag but MANAGE_PAYMENTS


def test_a_venue_onboards_and_account_updated_keeps_its_status(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given nord without a payment account, when its owner creates it (twice), gets an
    onboarding link and finishes onboarding on Stripe, then the same account is answered
    both times, and the status says charges and payouts are enabled only once Stripe's
    account.updated has been applied."""
    admin_db.execute("DELETE FROM payment_accounts WHERE venue_id = %s", (NORD,))
    seq = payments.fake.last_seq()

    created = payments.api.request("POST", f"/venues/{NORD}/payments/account", as_user=OWNER)
    again = payments.api.request("POST", f"/venues/{NORD}/payments/account", as_user=OWNER)
    link = payments.api.request(
        "POST",
        f"/venues/{NORD}/payments/onboarding-link",
        as_user=OWNER,
        json_body={
            "return_url": "https://admin.io-osteria.example/payments/done",
            "refresh_url": "https://admin.io-osteria.example/payments/again",
        },
    )
    account = created.json()["stripe_account_id"]
    before = payments.api.get(f"/venues/{NORD}/payments/status", as_user=OWNER).json()
    payments.fake.complete_onboarding(account)
    still_before = payments.api.get(f"/venues/{NORD}/payments/status", as_user=OWNER).json()
    payments.settle(seq)
    after = payments.api.get(f"/venues/{NORD}/payments/status", as_user=OWNER).json()

    assert (created.status, again.status, link.status) == (201, 201, 201)
    assert again.json()["stripe_account_id"] == account
    assert link.json()["url"].startswith("http")
    assert (before["charges_enabled"], before["payouts_enabled"]) == (False, False)
    assert still_before["charges_enabled"] is False
    assert (after["charges_enabled"], after["payouts_enabled"]) == (True, True)
    audited = admin_db.execute(
        "SELECT action FROM audit_outbox WHERE venue_id = %s AND target_id = %s"
        " ORDER BY occurred_at",
        (NORD, account),
    ).fetchall()
    assert audited == [("payments.account_created",), ("payments.account_updated",)]


def test_payments_need_the_manage_payments_flag(payments: Payments) -> None:
    response = payments.api.request("POST", f"/venues/{NORD}/payments/account", as_user=MANAGER)

    assert (response.status, response.json()["code"]) == (403, "permission-denied")


def test_operations_list_events_by_status_and_replay_one_audited(
    payments: Payments, admin_db: psycopg.Connection, database: postgres.Database
) -> None:
    """Given a stored event the processor failed on, when operations list the failed events
    and replay it, then it is listed with why, the replay applies it and records who
    replayed it."""
    import stripe

    client = stripe.StripeClient(
        payments.fake.secret_key, base_addresses={"api": payments.fake.api_base}
    )
    seq = payments.fake.last_seq()
    account = client.v1.accounts.create({"type": "express"})
    payments.fake.complete_onboarding(account.id)
    payments.deliver_after(seq)
    (message,) = payments.queue.take()
    admin_db.execute(
        "UPDATE stripe_events SET status = 'failed', attempts = 1,"
        " last_error = 'APIConnectionError: Stripe could not be reached' WHERE id = %s",
        (message.event_id,),
    )

    failed = list_events(payments.processor, "failed", 500)
    outcome = replay(payments.processor, database.payments_url, message.event_id, "ops-on-call")

    assert message.event_id in [row["id"] for row in failed]
    assert outcome == "ignored"  # an account of no venue of ours: stored, applied as nothing
    after = admin_db.execute(
        "SELECT status, last_error FROM stripe_events WHERE id = %s", (message.event_id,)
    ).fetchone()
    assert after == ("ignored", None)
    (details,) = admin_db.execute(
        "SELECT details FROM audit_outbox WHERE action = 'payments.event_replayed'"
        " AND target_id = %s",
        (message.event_id,),
    ).fetchone() or (None,)
    assert details is not None
    assert (details["operator"], details["status_before"]) == ("ops-on-call", "failed")
