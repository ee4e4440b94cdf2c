"""Payments: onboarding a venue's Express account, starting a checkout (an order draft and
a PaymentIntent on the venue's connected account) and asking for refunds. Nothing here marks
an order paid or a refund done: that is the webhook processor's, on Stripe's word
(functions/webhooks)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import psycopg

from payments import queries
from payments.models import (
    CheckoutStarted,
    CheckoutState,
    NewCheckout,
    NewRefund,
    OnboardingLink,
    OnboardingLinkRequest,
    PaymentStatus,
    Refund,
)
from tenancy import Problem, not_found
from tenancy.audit import record
from tenancy.order_book import require_on_menu
from tenancy.payments import StripeApi, platform_fee

#: Checkout and refund ids are derived from the venue and the client's key, so a retry after
#: any failure asks Stripe with the same idempotency key and gets the same object back.
_IDS = uuid.UUID("6c1f2f7e-5a57-4b43-9a4b-3f0c2d1e8a90")


def derived_id(kind: str, venue_id: uuid.UUID, key: str) -> uuid.UUID:
    return uuid.uuid5(_IDS, f"{kind}:{venue_id}:{key}")


def payment_account_missing() -> Problem:
    return Problem(
        409,
        "payment-account-missing",
        "this venue has no payment account yet: create it (POST .../payments/account)",
    )


@contextmanager
def stripe_call(what: str) -> Iterator[None]:
    """Stripe's refusals and outages as problems: nothing is written when Stripe fails."""
    import stripe

    try:
        yield
    except stripe.IdempotencyError:
        raise Problem(
            409,
            "idempotency-key-reused",
            f"this idempotency key was used for another {what}: use a new key",
        ) from None
    except stripe.InvalidRequestError as error:
        raise Problem(
            422,
            "payment-provider-refused",
            f"the payment provider refused the {what}",
            provider_code=error.code,
        ) from None
    except stripe.StripeError:
        raise Problem(
            502,
            "payment-provider-unavailable",
            f"the payment provider could not be reached for the {what}; try again",
        ) from None


# --- onboarding ---------------------------------------------------------------------------


def create_account(
    conn: psycopg.Connection,
    api: StripeApi,
    *,
    venue_id: uuid.UUID,
    actor_user_id: uuid.UUID | None,
) -> PaymentStatus:
    """The venue's Express account: made once (the same answer when it exists)."""
    existing = queries.account(conn, venue_id)
    if existing is not None:
        return PaymentStatus.model_validate(existing)
    with stripe_call("account"):
        account = api.client().v1.accounts.create(
            {
                "type": "express",
                "capabilities": {
                    "card_payments": {"requested": True},
                    "transfers": {"requested": True},
                },
                "metadata": {"venue_id": str(venue_id)},
            },
            {"idempotency_key": f"account-{venue_id}"},
        )
    queries.insert_account(conn, venue_id, account.id)
    record(
        conn,
        action="payments.account_created",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="payment_account",
        target_id=account.id,
    )
    return PaymentStatus(
        stripe_account_id=account.id,
        charges_enabled=bool(account.charges_enabled),
        payouts_enabled=bool(account.payouts_enabled),
        details_submitted=bool(account.details_submitted),
        updated_at=dt.datetime.now(dt.UTC),
    )


def onboarding_link(
    conn: psycopg.Connection, api: StripeApi, *, venue_id: uuid.UUID, urls: OnboardingLinkRequest
) -> OnboardingLink:
    existing = queries.account(conn, venue_id)
    if existing is None:
        raise payment_account_missing()
    with stripe_call("onboarding link"):
        link = api.client().v1.account_links.create(
            {
                "account": existing["stripe_account_id"],
                "type": "account_onboarding",
                "return_url": str(urls.return_url),
                "refresh_url": str(urls.refresh_url),
            }
        )
    return OnboardingLink(
        url=link.url, expires_at=dt.datetime.fromtimestamp(link.expires_at, dt.UTC)
    )


def status(conn: psycopg.Connection, venue_id: uuid.UUID) -> PaymentStatus:
    existing = queries.account(conn, venue_id)
    if existing is None:
        raise not_found("payment account")
    return PaymentStatus.model_validate(existing)


# --- checkouts ----------------------------------------------------------------------------


def start_checkout(
    conn: psycopg.Connection,
    api: StripeApi,
    *,
    venue_id: uuid.UUID,
    checkout: NewCheckout,
    user_id: uuid.UUID | None,
) -> CheckoutStarted:
    """An order draft (``awaiting_payment``: in no queue, no number) and its PaymentIntent on
    the venue's connected account, for the venue's own prices, with the platform's fee."""
    item_ids = sorted({line.item_id for line in checkout.lines})
    context = queries.checkout_context(conn, venue_id, checkout.idempotency_key, item_ids)
    replay = context["replay"]
    if replay is not None:
        with stripe_call("checkout"):
            intent = api.client().v1.payment_intents.retrieve(
                replay["payment_intent_id"], options={"stripe_account": replay["stripe_account_id"]}
            )
        return CheckoutStarted(
            checkout_id=replay["id"],
            status=replay["status"],
            amount_cents=replay["amount_cents"],
            currency=replay["currency"],
            client_secret=intent.client_secret,
        )
    account = context["account"]
    if account is None:
        raise payment_account_missing()
    if not account["charges_enabled"]:
        raise Problem(
            409,
            "payments-not-enabled",
            "this venue cannot take card payments yet: finish the payment account's onboarding",
        )
    if not context["shift_open"]:
        raise Problem(409, "no-open-shift", "this venue has no open shift: open one first")
    priced: dict[str, dict[str, Any]] = context["priced"]
    require_on_menu(item_ids, priced)
    lines = [
        {
            "item_id": str(line.item_id),
            "name": priced[str(line.item_id)]["name"],
            "quantity": line.quantity,
            "unit_price_cents": int(priced[str(line.item_id)]["price_cents"]),
        }
        for line in checkout.lines
    ]
    amount = sum(line["unit_price_cents"] * line["quantity"] for line in lines)
    if amount <= 0:
        raise Problem(422, "nothing-to-pay", "these items cost nothing: take the order at the till")
    currency = str(context["currency"]).strip().upper()
    fee = platform_fee(amount, api.fee_bps)
    checkout_id = derived_id("checkout", venue_id, checkout.idempotency_key)
    with stripe_call("checkout"):
        intent = api.client().v1.payment_intents.create(
            {
                "amount": amount,
                "currency": currency.lower(),
                "application_fee_amount": fee,
                "automatic_payment_methods": {"enabled": True},
                "metadata": {"checkout_id": str(checkout_id), "venue_id": str(venue_id)},
            },
            {
                "stripe_account": account["stripe_account_id"],
                "idempotency_key": f"checkout-{checkout_id}",
            },
        )
    queries.insert_checkout(
        conn,
        id=checkout_id,
        venue=venue_id,
        key=checkout.idempotency_key,
        intent=intent.id,
        account=account["stripe_account_id"],
        amount=amount,
        currency=currency,
        fee=fee,
        table=checkout.table_label,
        lines=lines,
        user=user_id,
    )
    return CheckoutStarted(
        checkout_id=checkout_id,
        status="awaiting_payment",
        amount_cents=amount,
        currency=currency,
        client_secret=intent.client_secret,
    )


def checkout_state(
    conn: psycopg.Connection, venue_id: uuid.UUID, checkout_id: uuid.UUID
) -> CheckoutState:
    found = queries.checkout_state(conn, venue_id, checkout_id)
    if found is None:
        raise not_found("checkout")
    return CheckoutState.model_validate(found)


# --- refunds ------------------------------------------------------------------------------


def refund(
    conn: psycopg.Connection,
    api: StripeApi,
    *,
    venue_id: uuid.UUID,
    order_id: uuid.UUID,
    asked: NewRefund,
    actor_user_id: Callable[[], uuid.UUID | None],
) -> Refund:
    """Ask Stripe to refund part or all of what remains of an online order's payment. The
    refund is ``pending`` until the webhook confirms it; one above the venue's alert
    threshold is a critical audit event."""
    context = queries.refund_context(conn, venue_id, order_id, asked.idempotency_key)
    if context is None:
        if queries.order_exists(conn, venue_id, order_id):
            raise Problem(
                409,
                "not-paid-online",
                "this order was not paid online: refund it at the till",
            )
        raise not_found("order")
    remaining = int(context["amount_cents"]) - int(context["refunded_cents"])
    replay = context["replay"]
    if replay is not None:
        return Refund.model_validate({**replay, "remaining_cents": remaining})
    if context["status"] != "placed":
        raise Problem(409, "not-paid-online", "this order's payment was not confirmed")
    if asked.amount_cents > remaining:
        raise Problem(
            409,
            "refund-exceeds-remaining",
            f"at most {remaining} can still be refunded on this order",
            remaining_cents=remaining,
        )
    refund_id = derived_id("refund", venue_id, asked.idempotency_key)
    with stripe_call("refund"):
        created = api.client().v1.refunds.create(
            {
                "payment_intent": context["payment_intent_id"],
                "amount": asked.amount_cents,
                "metadata": {"refund_id": str(refund_id), "venue_id": str(venue_id)},
            },
            {
                "stripe_account": context["stripe_account_id"],
                "idempotency_key": f"refund-{refund_id}",
            },
        )
    actor = actor_user_id()
    created_at = queries.insert_refund(
        conn,
        id=refund_id,
        venue=venue_id,
        checkout=context["checkout_id"],
        order=order_id,
        amount=asked.amount_cents,
        currency=context["currency"],
        stripe=created.id,
        key=asked.idempotency_key,
        reason=asked.reason,
        user=actor,
    )
    details = {
        "order_id": str(order_id),
        "amount_cents": asked.amount_cents,
        "currency": context["currency"],
        "reason": asked.reason,
        "stripe_refund_id": created.id,
    }
    record(
        conn,
        action="refund.requested",
        venue_id=venue_id,
        actor_user_id=actor,
        target_type="refund",
        target_id=refund_id,
        details=details,
    )
    threshold = context["threshold_cents"]
    if threshold is not None and asked.amount_cents > int(threshold):
        record(
            conn,
            action="refund.large",
            venue_id=venue_id,
            actor_user_id=actor,
            target_type="refund",
            target_id=refund_id,
            details={**details, "threshold_cents": int(threshold)},
            critical=True,
        )
    return Refund(
        id=refund_id,
        order_id=order_id,
        amount_cents=asked.amount_cents,
        currency=context["currency"],
        status="pending",
        remaining_cents=remaining - asked.amount_cents,
        created_at=created_at,
    )
