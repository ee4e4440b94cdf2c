"""The whole online order: a checkout, the payment in (fake) Stripe, Stripe's signed
webhook, and the order placed exactly once. Before Stripe's word the order is in no queue,
whatever the client calls; duplicates and any order of delivery end in the right state;
a payment that does not match its draft places nothing and raises a critical audit event."""

from __future__ import annotations

import json
import threading
import uuid
from typing import Any

import psycopg
import pytest

from infra.local.seed import CENTRALE
from tenancy.payments import platform_fee
from tests.payments.conftest import TAGLIATELLE, TIRAMISU, WAITER, new_key, price
from tests.support.payments import Payments

pytestmark = pytest.mark.usefixtures("centrale_account", "open_shift")


def start_checkout(payments: Payments, **extra: Any) -> dict[str, Any]:
    response = payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/checkouts",
        as_user=WAITER,
        json_body={
            "lines": [
                {"item_id": str(TAGLIATELLE), "quantity": 2},
                {"item_id": str(TIRAMISU), "quantity": 1},
            ],
            "table_label": "T7",
            "idempotency_key": new_key(),
            **extra,
        },
    )
    assert response.status == 201, response.text
    started: dict[str, Any] = response.json()
    return started


def intent_of(started: dict[str, Any]) -> str:
    return str(started["client_secret"]).split("_secret_")[0]


def checkout(payments: Payments, checkout_id: str) -> dict[str, Any]:
    response = payments.api.get(f"/venues/{CENTRALE}/checkouts/{checkout_id}", as_user=WAITER)
    assert response.status == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def queue_ids(payments: Payments) -> list[str]:
    response = payments.api.get(
        f"/venues/{CENTRALE}/orders", as_user=WAITER, query={"limit": "200"}
    )
    assert response.status == 200, response.text
    return [order["id"] for order in response.json()["orders"]]


def online_orders_of(admin_db: psycopg.Connection, checkout_id: str) -> list[tuple[Any, ...]]:
    return admin_db.execute(
        "SELECT o.id, o.status, o.channel, o.total_cents FROM orders o"
        " WHERE o.venue_id = %s AND o.idempotency_key = %s",
        (CENTRALE, f"checkout:{checkout_id}"),
    ).fetchall()


def audit_actions(admin_db: psycopg.Connection, target: str) -> list[tuple[str, bool]]:
    rows = admin_db.execute(
        "SELECT action, critical FROM audit_outbox WHERE venue_id = %s"
        " AND (target_id = %s OR details->>'checkout_id' = %s) ORDER BY occurred_at",
        (CENTRALE, target, target),
    ).fetchall()
    return [(str(action), bool(critical)) for action, critical in rows]


def test_an_online_order_is_placed_once_and_only_when_stripe_says_it_was_paid(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a waiter's checkout at centrale (2 tagliatelle, 1 tiramisù, at centrale's
    prices), when the diner pays in Stripe and Stripe's signed webhooks arrive, then the
    order is placed once, online, for that total, joins the queue, and the PaymentIntent
    carried the platform's fee; before the webhook, nothing the client can call shows an
    order."""
    total = 2 * price(admin_db, TAGLIATELLE) + price(admin_db, TIRAMISU)
    seq = payments.fake.last_seq()
    started = start_checkout(payments)
    intent = intent_of(started)

    assert set(started) == {"checkout_id", "status", "amount_cents", "currency", "client_secret"}
    assert (started["status"], started["amount_cents"], started["currency"]) == (
        "awaiting_payment",
        total,
        "EUR",
    )
    sent = payments.fake.deliveries(after=seq)
    (created,) = [d for d in sent if d["type"] == "payment_intent.created"]
    fee = json.loads(created["body"])["data"]["object"]["application_fee_amount"]
    assert fee == platform_fee(total, 250) == (total * 250 + 5000) // 10000

    # The card form says paid; Stripe's webhooks have not arrived yet.
    queue_before = queue_ids(payments)
    paid = payments.fake.pay(intent)
    assert paid["status"] == "succeeded"
    assert checkout(payments, started["checkout_id"])["status"] == "awaiting_payment"
    assert queue_ids(payments) == queue_before
    assert (
        payments.api.get(
            f"/venues/{CENTRALE}/orders/{started['checkout_id']}", as_user=WAITER
        ).status
        == 404
    )
    started_early = payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/orders/{started['checkout_id']}/transitions",
        as_user=WAITER,
        json_body={"action": "start"},
    )
    assert started_early.status == 404
    assert online_orders_of(admin_db, started["checkout_id"]) == []

    payments.settle(seq)

    state = checkout(payments, started["checkout_id"])
    assert state["status"] == "placed"
    assert state["order_id"] in queue_ids(payments)
    order = payments.api.get(f"/venues/{CENTRALE}/orders/{state['order_id']}", as_user=WAITER)
    assert order.json()["status"] == "placed"
    assert order.json()["channel"] == "online"
    assert order.json()["total_cents"] == total
    assert order.json()["table_label"] == "T7"
    assert sorted((i["name"], i["quantity"]) for i in order.json()["items"]) == [
        ("Tagliatelle al ragù", 2),
        ("Tiramisù", 1),
    ]
    # Stripe delivers again: still one order, one audited placement.
    payments.settle(seq)
    assert len(online_orders_of(admin_db, started["checkout_id"])) == 1
    assert audit_actions(admin_db, started["checkout_id"]).count(("payment.succeeded", False)) == 1


def test_the_same_event_delivered_twenty_times_at_once_changes_state_once(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a paid checkout, when Stripe's payment_intent.succeeded arrives twenty times
    concurrently (ingress and processor both), then it is stored once and the order is
    placed once."""
    seq = payments.fake.last_seq()
    started = start_checkout(payments)
    payments.fake.pay(intent_of(started))
    (succeeded,) = [
        d for d in payments.fake.deliveries(after=seq) if d["type"] == "payment_intent.succeeded"
    ]
    barrier = threading.Barrier(20)
    statuses: list[int] = []

    def deliver() -> None:
        barrier.wait()
        statuses.append(payments.deliver(succeeded).status)

    threads = [threading.Thread(target=deliver) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    messages = payments.queue.take()
    outcomes: list[str] = []
    errors: list[BaseException] = []
    barrier = threading.Barrier(len(messages))

    def process(event_id: str) -> None:
        from webhooks.processor import process as apply

        barrier.wait()
        try:
            outcomes.append(apply(payments.processor, event_id))
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=process, args=(m.event_id,)) for m in messages]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert statuses == [200] * 20
    assert len(messages) == 20
    assert errors == []
    assert outcomes == ["processed"] * 20
    stored = admin_db.execute(
        "SELECT count(*), min(status) FROM stripe_events WHERE id = %s", (succeeded["event_id"],)
    ).fetchone()
    assert stored == (1, "processed")
    assert len(online_orders_of(admin_db, started["checkout_id"])) == 1
    assert audit_actions(admin_db, started["checkout_id"]).count(("payment.succeeded", False)) == 1


def test_succeeded_arriving_before_created_places_the_order_once(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    seq = payments.fake.last_seq()
    started = start_checkout(payments)
    payments.fake.pay(intent_of(started))

    payments.settle(seq, types={"payment_intent.succeeded"})
    payments.settle(seq, types={"payment_intent.created"})

    assert checkout(payments, started["checkout_id"])["status"] == "placed"
    assert len(online_orders_of(admin_db, started["checkout_id"])) == 1


def test_a_declined_card_then_a_good_one_ends_placed_whatever_order_the_events_come_in(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a checkout whose first card was declined and second accepted, when Stripe's
    payment_failed arrives after payment_intent.succeeded, then the order stays placed (a
    failure never undoes a success); a declined card alone leaves the checkout failed and
    in no queue."""
    seq = payments.fake.last_seq()
    started = start_checkout(payments)
    intent = intent_of(started)
    payments.fake.pay(intent, "declined")
    payments.settle(seq)
    assert checkout(payments, started["checkout_id"])["status"] == "payment_failed"
    assert online_orders_of(admin_db, started["checkout_id"]) == []

    second = payments.fake.last_seq()
    payments.fake.pay(intent)
    payments.settle(second, types={"payment_intent.succeeded"})
    # The declined attempt's events arrive again, late.
    payments.settle(seq, types={"payment_intent.payment_failed", "charge.failed"})

    assert checkout(payments, started["checkout_id"])["status"] == "placed"
    assert len(online_orders_of(admin_db, started["checkout_id"])) == 1


def test_a_payment_whose_amount_does_not_match_its_draft_places_nothing(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a checkout whose draft says 1.00 while its PaymentIntent says otherwise (the
    draft altered behind the application's back), when the payment succeeds, then no order
    is placed, the checkout is held as a mismatch and a critical audit event says why."""
    seq = payments.fake.last_seq()
    started = start_checkout(payments)
    admin_db.execute(
        "UPDATE checkouts SET amount_cents = 100 WHERE id = %s", (started["checkout_id"],)
    )
    payments.fake.pay(intent_of(started))

    payments.settle(seq)

    assert checkout(payments, started["checkout_id"])["status"] == "mismatch"
    assert online_orders_of(admin_db, started["checkout_id"]) == []
    (details,) = admin_db.execute(
        "SELECT details FROM audit_outbox WHERE action = 'payment.mismatch' AND critical"
        " AND details->>'checkout_id' = %s",
        (started["checkout_id"],),
    ).fetchone() or (None,)
    assert details is not None
    assert "amount" in details["mismatched"]


def test_a_payment_on_another_connected_account_places_nothing(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    """Given a checkout at centrale, when a PaymentIntent on another connected account,
    naming that checkout in its metadata, is paid, then its webhook places nothing, the
    checkout still waits for its own payment, and a critical audit event says the account
    did not match."""
    import stripe

    started = start_checkout(payments)
    client = stripe.StripeClient(
        payments.fake.secret_key, base_addresses={"api": payments.fake.api_base}
    )
    other = client.v1.accounts.create({"type": "express"})
    payments.fake.complete_onboarding(other.id)
    seq = payments.fake.last_seq()
    forged = client.v1.payment_intents.create(
        {
            "amount": started["amount_cents"],
            "currency": "eur",
            "automatic_payment_methods": {"enabled": True},
            "metadata": {"checkout_id": started["checkout_id"], "venue_id": str(CENTRALE)},
        },
        {"stripe_account": other.id},
    )
    payments.fake.pay(forged.id)

    payments.settle(seq)

    assert checkout(payments, started["checkout_id"])["status"] == "awaiting_payment"
    assert online_orders_of(admin_db, started["checkout_id"]) == []
    mismatches = admin_db.execute(
        "SELECT details FROM audit_outbox WHERE action = 'payment.mismatch' AND critical"
        " AND details->>'payment_intent' = %s",
        (forged.id,),
    ).fetchall()
    assert len(mismatches) == 1
    assert "account" in mismatches[0][0]["mismatched"]


def test_a_checkout_is_priced_by_the_venue_and_refuses_what_it_does_not_sell(
    payments: Payments,
) -> None:
    """Given the checkout route, when the cart names an item centrale does not sell, or an
    extra field such as a price, then it is refused and no PaymentIntent is made."""
    seq = payments.fake.last_seq()
    unknown = payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/checkouts",
        as_user=WAITER,
        json_body={
            "lines": [{"item_id": str(uuid.uuid4()), "quantity": 1}],
            "idempotency_key": new_key(),
        },
    )
    priced_by_client = payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/checkouts",
        as_user=WAITER,
        json_body={
            "lines": [{"item_id": str(TIRAMISU), "quantity": 1, "unit_price_cents": 1}],
            "idempotency_key": new_key(),
        },
    )

    assert (unknown.status, unknown.json()["code"]) == (422, "item-not-on-menu")
    assert (priced_by_client.status, priced_by_client.json()["code"]) == (422, "invalid-body")
    assert payments.fake.deliveries(after=seq) == []


def test_the_same_idempotency_key_returns_the_same_checkout(payments: Payments) -> None:
    key = new_key()
    first = start_checkout(payments, idempotency_key=key)
    again = start_checkout(payments, idempotency_key=key)

    assert again["checkout_id"] == first["checkout_id"]
    assert intent_of(again) == intent_of(first)
