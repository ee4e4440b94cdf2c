"""The webhook processor: applies a stored Stripe event as authoritative payment state.

Per event: read it from ``stripe_events``; read its object again from Stripe (as the event's
connected account), so what is applied is Stripe's state now, whatever order the events
came in; then, in one transaction as app_payments, lock the event row (duplicates wait and
find it settled), bind the venue the object names (signed, as the service session: row-level
security still applies), apply, audit, and mark the event processed.

- ``payment_intent.*``: a PaymentIntent that has succeeded places its checkout's order (it
  joins the venue's queue), once, if its amount, currency and connected account are those
  of the checkout; otherwise nothing is placed and a critical ``payment.mismatch`` event is
  audited. A failed attempt marks the checkout ``payment_failed`` (the diner may try again:
  a later success still places it); a failure never undoes a success.
- ``charge.refunded``, ``charge.refund.updated``, ``refund.*``: each refund of the payment
  takes Stripe's status.
- ``account.updated``: the venue's charges/payouts flags.
- Any other type is stored, acknowledged and marked ``ignored``.
"""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tenancy.audit import record
from tenancy.bindings import PAYMENTS_SERVICE, Binder, LazyBindingKey
from tenancy.db import ConnectionSource, GateConnection
from tenancy.log import Log
from tenancy.order_book import lock_counter
from tenancy.payments import StripeApi
from tenancy.relay import Relay, SqsRelay, no_relay
from webhooks import queries

__all__ = [
    "MissingEvent",
    "Processor",
    "current_processor",
    "install_processor",
    "is_handled",
    "process",
]

_REFUND_EVENTS = frozenset(
    {
        "charge.refunded",
        "charge.refund.updated",
        "refund.created",
        "refund.updated",
        "refund.failed",
    }
)


SUCCEEDED = "payment_intent.succeeded"


def is_handled(kind: str) -> bool:
    return kind.startswith("payment_intent.") or kind in _REFUND_EVENTS or kind == "account.updated"


class MissingEvent(LookupError):
    """The queue names an event that is not stored (yet): retried, then dead-lettered."""


@dataclass
class Processor:
    #: Connections as app_payments.
    database: ConnectionSource
    binding_key: Binder
    stripe: StripeApi
    #: Sends the audit events of a committed transaction to the audit queue.
    relay: Relay = no_relay
    log: Log = field(default_factory=Log)
    report: Callable[[BaseException], None] = lambda error: None

    @classmethod
    def from_environment(cls) -> Processor:
        from tenancy.runtime import _secret_string, connection_source
        from tenancy.sentry import reporter
        from tenancy.settings import settings

        config = settings()
        return cls(
            database=connection_source(config),
            binding_key=LazyBindingKey(
                lambda: config.binding_key or _secret_string(config.binding_key_secret_arn)
            ),
            stripe=StripeApi.from_environment(),
            relay=SqsRelay(config.audit_queue_url) if config.audit_queue_url else no_relay,
            report=reporter(config.sentry_dsn, config.stage),
        )


_lock = threading.Lock()
_processor: Processor | None = None


def current_processor() -> Processor:
    global _processor
    with _lock:
        if _processor is None:
            _processor = Processor.from_environment()
        return _processor


def install_processor(processor: Processor | None) -> None:
    global _processor
    with _lock:
        _processor = processor


@dataclass(frozen=True)
class Stored:
    id: str
    type: str
    account: str | None
    status: str
    event: dict[str, Any]


def _load(conn: GateConnection, event_id: str) -> Stored | None:
    with conn.request():
        row = (
            conn.cursor(row_factory=dict_row)
            .execute(queries.STORED_EVENT, {"id": event_id})
            .fetchone()
        )
    if row is None:
        return None
    return Stored(row["id"], row["type"], row["account"], row["status"], json.loads(row["body"]))


def process(processor: Processor, event_id: str, *, replay: bool = False) -> str:
    """Apply the stored event ``event_id``; what became of it (``processed``, ``ignored``, or
    what it was already). ``replay`` applies it again even if it was settled."""
    with processor.database.connection() as conn:
        stored = _load(conn, event_id)
        if stored is None:
            raise MissingEvent(f"no stored Stripe event {event_id}")
        if stored.status in ("processed", "ignored") and not replay:
            return stored.status
        try:
            fresh = _reread(processor.stripe, stored) if is_handled(stored.type) else None
            outcome = _apply(processor, conn, stored, fresh, replay=replay)
        except Exception as error:
            _fail(conn, event_id, error)
            raise
        _relay(processor, conn)
    return outcome


def _relay(processor: Processor, conn: GateConnection) -> None:
    events = conn.take_audit_events()
    if events:
        try:
            processor.relay(events)
        except Exception:
            processor.log.exception("audit relay failed; the sweeper will send the events")


def _fail(conn: GateConnection, event_id: str, error: Exception) -> None:
    message = f"{type(error).__name__}: {error}"[:1000]
    try:
        with conn.request():
            conn.execute("BEGIN")
            conn.execute(queries.FAIL_EVENT, {"id": event_id, "error": message})
            conn.execute("COMMIT")
    except Exception:  # the queue retries anyway; the failure is logged by the caller
        return


# --- Stripe, read again ---------------------------------------------------------------------


@dataclass(frozen=True)
class Fresh:
    """What Stripe says now about the event's object."""

    intent: Any = None
    refunds: list[Any] = field(default_factory=list)
    account: Any = None


def _options(stored: Stored) -> dict[str, Any]:
    return {"stripe_account": stored.account} if stored.account else {}


def _reread(api: StripeApi, stored: Stored) -> Fresh:
    client = api.client()
    obj: dict[str, Any] = stored.event["data"]["object"]
    if stored.type == "account.updated":
        return Fresh(account=client.v1.accounts.retrieve(str(obj["id"])))
    if stored.type.startswith("payment_intent."):
        intent_id = str(obj["id"])
    else:
        intent_id = str(obj.get("payment_intent") or "")
        if not intent_id:
            return Fresh()
    intent = client.v1.payment_intents.retrieve(intent_id, options=_options(stored))
    refunds: list[Any] = []
    if stored.type in _REFUND_EVENTS:
        listed = client.v1.refunds.list(
            {"payment_intent": intent_id, "limit": 100}, options=_options(stored)
        )
        refunds = list(listed.data)
    return Fresh(intent=intent, refunds=refunds)


def _metadata(obj: Any, name: str) -> str | None:
    """One value of a Stripe object's metadata (what this platform wrote there)."""
    metadata = getattr(obj, "metadata", None)
    if metadata is None:
        return None
    values = metadata.to_dict() if hasattr(metadata, "to_dict") else dict(metadata)
    value = values.get(name)
    return str(value) if value else None


def _uuid(value: str | None) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


# --- applying -------------------------------------------------------------------------------


def _apply(
    processor: Processor,
    conn: GateConnection,
    stored: Stored,
    fresh: Fresh | None,
    *,
    replay: bool,
) -> str:
    with conn.request():
        conn.execute("BEGIN")
        locked = conn.execute(queries.LOCK_EVENT, {"id": stored.id}).fetchone()
        assert locked is not None
        if locked[0] in ("processed", "ignored") and not replay:
            conn.execute("COMMIT")
            return str(locked[0])
        outcome = "ignored"
        if fresh is not None:
            subject = fresh.account if fresh.account is not None else fresh.intent
            venue_id = _uuid(_metadata(subject, "venue_id")) if subject is not None else None
            if venue_id is not None:
                bindings = processor.binding_key.bind(
                    user_id=None, session_id=PAYMENTS_SERVICE, venue_id=venue_id, mfa=False
                )
                conn.execute(bindings.SQL, bindings.as_params())
                if fresh.account is not None:
                    _apply_account(conn, venue_id, stored, fresh.account)
                else:
                    _apply_intent(conn, venue_id, stored, fresh.intent)
                    if stored.type in _REFUND_EVENTS:
                        _apply_refunds(conn, venue_id, stored, fresh.refunds)
                outcome = "processed"
            else:
                processor.log.warning(
                    "a Stripe object names no venue of ours", event_id=stored.id, type=stored.type
                )
        conn.execute(queries.SETTLE_EVENT, {"id": stored.id, "status": outcome})
        conn.execute("COMMIT")
    return outcome


def _apply_intent(conn: GateConnection, venue_id: uuid.UUID, stored: Stored, intent: Any) -> None:
    checkout = (
        conn.cursor(row_factory=dict_row)
        .execute(
            queries.LOCK_CHECKOUT,
            {
                "venue": venue_id,
                "checkout": _uuid(_metadata(intent, "checkout_id")),
                "intent": intent.id,
            },
        )
        .fetchone()
    )
    details: dict[str, Any] = {
        "event_id": stored.id,
        "payment_intent": intent.id,
        "account": stored.account,
    }
    if checkout is None:
        if intent.status == "succeeded" and stored.type == SUCCEEDED:
            record(
                conn,
                action="payment.mismatch",
                venue_id=venue_id,
                actor_user_id=None,
                target_type="payment_intent",
                target_id=intent.id,
                details={**details, "mismatched": ["checkout"]},
                critical=True,
            )
        return
    details["checkout_id"] = str(checkout["id"])
    if intent.status == "succeeded":
        mismatched = _mismatches(checkout, stored, intent)
        if mismatched:
            if checkout["payment_intent_id"] == intent.id and checkout["status"] != "placed":
                conn.execute(
                    queries.MARK_CHECKOUT,
                    {"status": "mismatch", "checkout": checkout["id"], "venue": venue_id},
                )
            # Raised once: by the event that says the payment succeeded (its duplicates
            # wait on the event's row and find it settled), not by the others of the same
            # PaymentIntent that read it again afterwards.
            if stored.type == SUCCEEDED:
                record(
                    conn,
                    action="payment.mismatch",
                    venue_id=venue_id,
                    actor_user_id=None,
                    target_type="checkout",
                    target_id=checkout["id"],
                    details={
                        **details,
                        "mismatched": mismatched,
                        "expected": {
                            "amount_cents": checkout["amount_cents"],
                            "currency": checkout["currency"],
                            "account": checkout["stripe_account_id"],
                        },
                        "paid": {
                            "amount_cents": intent.amount,
                            "currency": str(intent.currency).upper(),
                        },
                    },
                    critical=True,
                )
            return
        if checkout["status"] in ("placed", "mismatch"):
            return
        _place(conn, venue_id, checkout, details)
        return
    failed = intent.status == "canceled" or (
        intent.status == "requires_payment_method"
        and getattr(intent, "last_payment_error", None) is not None
    )
    if failed and checkout["status"] == "awaiting_payment":
        conn.execute(
            queries.MARK_CHECKOUT,
            {"status": "payment_failed", "checkout": checkout["id"], "venue": venue_id},
        )
        error = getattr(intent, "last_payment_error", None)
        record(
            conn,
            action="payment.failed",
            venue_id=venue_id,
            actor_user_id=None,
            target_type="checkout",
            target_id=checkout["id"],
            details={
                **details,
                "intent_status": intent.status,
                "decline": None if error is None else getattr(error, "code", None),
            },
        )


def _mismatches(checkout: dict[str, Any], stored: Stored, intent: Any) -> list[str]:
    found = []
    if checkout["payment_intent_id"] != intent.id:
        found.append("payment_intent")
    if checkout["amount_cents"] != intent.amount or (
        getattr(intent, "amount_received", None) not in (None, intent.amount)
    ):
        found.append("amount")
    if checkout["currency"] != str(intent.currency).upper():
        found.append("currency")
    if stored.account is None or not (
        checkout["stripe_account_id"] == stored.account == checkout["venue_account"]
    ):
        found.append("account")
    return found


def _place(
    conn: GateConnection, venue_id: uuid.UUID, checkout: dict[str, Any], details: dict[str, Any]
) -> None:
    locked = lock_counter(conn, venue_id).fetchone()
    assert locked is not None
    number = int(locked[0]) + 1
    order_id = uuid.uuid4()
    conn.execute(
        queries.PLACE_ORDER,
        {
            "venue": venue_id,
            "number": number,
            "order": order_id,
            "checkout": checkout["id"],
            "table": checkout["table_label"],
            "total": checkout["amount_cents"],
            "lines": Jsonb(checkout["lines"]),
        },
    )
    record(
        conn,
        action="payment.succeeded",
        venue_id=venue_id,
        actor_user_id=None,
        target_type="order",
        target_id=order_id,
        details={
            **details,
            "number": number,
            "amount_cents": checkout["amount_cents"],
            "currency": checkout["currency"],
        },
    )


_REFUND_STATUSES = {"pending", "succeeded", "failed", "canceled"}


def _apply_refunds(
    conn: GateConnection, venue_id: uuid.UUID, stored: Stored, refunds: list[Any]
) -> None:
    for refund in refunds:
        if refund.status not in _REFUND_STATUSES or refund.status == "pending":
            continue
        changed = conn.execute(
            queries.SETTLE_REFUND,
            {
                "venue": venue_id,
                "refund": _uuid(_metadata(refund, "refund_id")),
                "stripe": refund.id,
                "status": refund.status,
            },
        ).fetchone()
        if changed is None:
            continue
        record(
            conn,
            action=f"refund.{refund.status}",
            venue_id=venue_id,
            actor_user_id=None,
            target_type="refund",
            target_id=changed[0],
            details={
                "event_id": stored.id,
                "order_id": str(changed[1]),
                "amount_cents": changed[2],
                "currency": changed[3],
                "stripe_refund_id": refund.id,
            },
        )


def _apply_account(conn: GateConnection, venue_id: uuid.UUID, stored: Stored, account: Any) -> None:
    changed = conn.execute(
        queries.UPDATE_ACCOUNT,
        {
            "venue": venue_id,
            "account": account.id,
            "charges": bool(account.charges_enabled),
            "payouts": bool(account.payouts_enabled),
            "submitted": bool(account.details_submitted),
        },
    ).fetchone()
    if changed is not None:
        record(
            conn,
            action="payments.account_updated",
            venue_id=venue_id,
            actor_user_id=None,
            target_type="payment_account",
            target_id=account.id,
            details={
                "event_id": stored.id,
                "charges_enabled": bool(account.charges_enabled),
                "payouts_enabled": bool(account.payouts_enabled),
                "details_submitted": bool(account.details_submitted),
            },
        )


def list_events(processor: Processor, status: str | None, limit: int = 50) -> list[dict[str, Any]]:
    """Stored events, newest first, by status (operations: ``make payments-events``)."""
    with processor.database.connection() as conn, conn.request():
        rows: list[dict[str, Any]] = (
            conn.cursor(row_factory=dict_row)
            .execute(queries.LIST_EVENTS, {"status": status, "limit": limit})
            .fetchall()
        )
    return rows
