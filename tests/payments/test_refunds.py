"""Refunds of online orders: up to what remains, once per idempotency key, confirmed by
Stripe's webhook; above the venue's alert threshold, a critical audit event."""

from __future__ import annotations

from typing import Any

import psycopg
import pytest

from infra.local.seed import CENTRALE
from tests.payments.conftest import REGIONAL, TAGLIATELLE, WAITER, new_key, price
from tests.payments.test_online_order import checkout, intent_of, start_checkout
from tests.support.payments import Payments

pytestmark = pytest.mark.usefixtures("centrale_account", "open_shift")


def paid(payments: Payments, **extra: Any) -> tuple[str, int]:
    """An online order of centrale, paid and placed, and its total."""
    seq = payments.fake.last_seq()
    started = start_checkout(payments, **extra)
    payments.fake.pay(intent_of(started))
    payments.settle(seq)
    order_id: str = checkout(payments, started["checkout_id"])["order_id"]
    return order_id, int(started["amount_cents"])


@pytest.fixture
def paid_order(payments: Payments) -> tuple[str, int]:
    return paid(payments)


def refund(payments: Payments, order_id: str, amount: int, key: str | None = None, **kw: Any):  # type: ignore[no-untyped-def]
    return payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/orders/{order_id}/refunds",
        as_user=kw.pop("as_user", REGIONAL),
        json_body={"amount_cents": amount, "idempotency_key": key or new_key(), **kw},
    )


def test_a_refund_is_pending_until_stripe_confirms_it(
    payments: Payments, admin_db: psycopg.Connection, paid_order: tuple[str, int]
) -> None:
    order, total = paid_order
    seq = payments.fake.last_seq()

    asked = refund(payments, order, 1000, reason="cold pasta")

    assert asked.status == 201, asked.text
    assert (asked.json()["status"], asked.json()["remaining_cents"]) == ("pending", total - 1000)
    payments.settle(seq)
    status = admin_db.execute(
        "SELECT status FROM refunds WHERE id = %s", (asked.json()["id"],)
    ).fetchone()
    assert status == ("succeeded",)
    confirmed = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'refund.succeeded' AND target_id = %s",
        (asked.json()["id"],),
    ).fetchone()
    assert confirmed == (1,)


def test_no_more_than_what_remains_can_be_refunded(
    payments: Payments, paid_order: tuple[str, int]
) -> None:
    order, total = paid_order
    first = refund(payments, order, total - 500)
    too_much = refund(payments, order, 501)
    rest = refund(payments, order, 500)

    assert first.status == 201
    assert (too_much.status, too_much.json()["code"]) == (409, "refund-exceeds-remaining")
    assert too_much.json()["remaining_cents"] == 500
    assert (rest.status, rest.json()["remaining_cents"]) == (201, 0)


def test_the_same_idempotency_key_is_the_same_refund(
    payments: Payments, admin_db: psycopg.Connection, paid_order: tuple[str, int]
) -> None:
    order, _ = paid_order
    key = new_key()
    first = refund(payments, order, 700, key)
    again = refund(payments, order, 700, key)

    assert (first.status, again.status) == (201, 201)
    assert again.json()["id"] == first.json()["id"]
    count = admin_db.execute(
        "SELECT count(*) FROM refunds WHERE order_id = %s", (order,)
    ).fetchone()
    assert count == (1,)


def test_a_refund_above_the_venues_threshold_is_a_critical_event(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given centrale's refund alert threshold and two online orders above it, when one is
    refunded by exactly the threshold and the other by one cent more, then only the second
    is a critical refund.large event."""
    (threshold,) = admin_db.execute(
        "SELECT refund_alert_threshold_cents FROM venue_settings WHERE venue_id = %s",
        (CENTRALE,),
    ).fetchone() or (None,)
    assert threshold is not None
    quantity = min(100, threshold // price(admin_db, TAGLIATELLE) + 1)
    lines = [{"item_id": str(TAGLIATELLE), "quantity": quantity}]
    order, _ = paid(payments, lines=lines)
    other, _ = paid(payments, lines=lines)

    at_threshold = refund(payments, order, threshold)
    above = refund(payments, other, threshold + 1)

    assert (at_threshold.status, above.status) == (201, 201)
    large = admin_db.execute(
        "SELECT target_id, critical FROM audit_outbox WHERE action = 'refund.large'"
        " AND target_id = ANY(%s)",
        ([at_threshold.json()["id"], above.json()["id"]],),
    ).fetchall()
    assert large == [(above.json()["id"], True)]


def test_refunding_needs_the_refund_flag_and_an_online_payment(
    payments: Payments, admin_db: psycopg.Connection, paid_order: tuple[str, int]
) -> None:
    order, _ = paid_order
    (till_order,) = admin_db.execute(
        "SELECT id FROM orders WHERE venue_id = %s AND channel = 'till' LIMIT 1", (CENTRALE,)
    ).fetchone() or (None,)

    by_waiter = refund(payments, order, 100, as_user=WAITER)
    of_till_order = refund(payments, str(till_order), 100)

    assert (by_waiter.status, by_waiter.json()["code"]) == (403, "permission-denied")
    assert (of_till_order.status, of_till_order.json()["code"]) == (409, "not-paid-online")
