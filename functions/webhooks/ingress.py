"""The webhook ingress: verify Stripe's signature (with the timestamp tolerance), check the
event's shape and mode, store the raw event once by its id, hand it to the processor's
queue, answer fast. Whatever is refused is refused before anything is stored."""

from __future__ import annotations

import json
import re
import time
from typing import Any, ClassVar, Literal

from pydantic import BaseModel

from tenancy import Problem, Request, SignedPayload
from tenancy.db import GateConnection
from tenancy.payments import WebhookMessage, WebhookQueue, WebhookSecrets

__all__ = ["TOLERANCE_SECONDS", "Received", "StripeDelivery", "receive"]

#: How old a signature's timestamp may be (Stripe's own default): a captured delivery
#: replayed later than this is refused, whatever it says.
TOLERANCE_SECONDS = 300

Endpoint = Literal["platform", "connect"]

_EVENT_ID = re.compile(r"^evt_[A-Za-z0-9_]{1,250}$")
_ACCOUNT_ID = re.compile(r"^acct_[A-Za-z0-9_]{1,250}$")

STORE = """
INSERT INTO stripe_events (id, endpoint, type, account, livemode, stripe_created, body)
VALUES (%(id)s, %(endpoint)s, %(type)s, %(account)s, %(livemode)s, to_timestamp(%(created)s),
        %(body)s)
ON CONFLICT DO NOTHING
"""


class StripeDelivery(SignedPayload):
    """A Stripe event as delivered: its bytes and its ``Stripe-Signature`` header."""

    signature_header: ClassVar[str] = "stripe-signature"
    documented_as: ClassVar[str] = (
        "A Stripe event (https://docs.stripe.com/api/events/object), signed in the"
        " Stripe-Signature header with this endpoint's signing secret"
    )
    documented_example: ClassVar[dict[str, Any]] = {
        "id": "evt_1QfakeExample",
        "object": "event",
        "type": "payment_intent.succeeded",
        "livemode": False,
        "created": 1764072000,
        "data": {"object": {"id": "pi_1QfakeExample", "object": "payment_intent"}},
    }


class Received(BaseModel):
    received: bool = True
    event_id: str


def bad_signature() -> Problem:
    return Problem(
        400,
        "invalid-signature",
        "the Stripe-Signature header does not verify for this endpoint (or is too old)",
    )


def _verified(delivery: StripeDelivery, secret: str) -> dict[str, Any]:
    import stripe

    if not delivery.signature:
        raise Problem(400, "missing-signature", "the Stripe-Signature header is missing")
    try:
        text = delivery.payload.decode("utf-8")
    except UnicodeDecodeError:
        raise Problem(400, "malformed-json", "the body is not UTF-8 JSON") from None
    try:
        # What stripe.Webhook.construct_event verifies first (the signature over the bytes,
        # within the tolerance); the JSON is parsed here, since construct_event fails with
        # an AttributeError (a 500) on signed JSON that is not an object.
        stripe.WebhookSignature.verify_header(
            text, delivery.signature, secret, tolerance=TOLERANCE_SECONDS
        )
    except stripe.SignatureVerificationError:
        raise bad_signature() from None
    try:
        event = json.loads(text)
    except (ValueError, RecursionError):
        raise Problem(400, "malformed-json", "the body is not valid JSON") from None
    if _signed_at(delivery.signature) > time.time() + TOLERANCE_SECONDS:
        # Stripe's check bounds the age only; a stamp from the future is no delivery either.
        raise bad_signature()
    if not isinstance(event, dict):
        raise Problem(400, "invalid-event", "the body is not a Stripe event")
    return event


def _signed_at(header: str) -> int:
    """The header's ``t=`` (it verified, so it is there and numeric)."""
    for item in header.split(","):
        name, _, value = item.strip().partition("=")
        if name == "t" and value.isdigit():
            return int(value)
    return 0


def _checked(event: dict[str, Any], endpoint: Endpoint, livemode: bool) -> dict[str, Any]:
    """The fields stored, once the event's shape, endpoint and mode agree."""
    event_id, kind, created = event.get("id"), event.get("type"), event.get("created")
    account, mode = event.get("account"), event.get("livemode")
    data = event.get("data")
    if not (
        isinstance(event_id, str)
        and _EVENT_ID.match(event_id)
        and isinstance(kind, str)
        and 0 < len(kind) <= 200
        and isinstance(created, int)
        and not isinstance(created, bool)
        and isinstance(mode, bool)
        and isinstance(data, dict)
        and isinstance(data.get("object"), dict)
    ):
        raise Problem(400, "invalid-event", "the body is not a Stripe event")
    if endpoint == "connect":
        if not (isinstance(account, str) and _ACCOUNT_ID.match(account)):
            raise Problem(
                400, "invalid-event", "a Connect endpoint's event names its connected account"
            )
    elif account is not None:
        raise Problem(
            400, "invalid-event", "a connected account's event belongs on the Connect endpoint"
        )
    if mode is not livemode:
        raise Problem(
            400,
            "livemode-mismatch",
            "this deployment takes " + ("live" if livemode else "test") + "-mode events only",
        )
    return {
        "id": event_id,
        "endpoint": endpoint,
        "type": kind,
        "account": account,
        "livemode": mode,
        "created": created,
    }


def receive(request: Request[Any, StripeDelivery], endpoint: Endpoint) -> Received:
    """Verify, store once, commit, queue: Stripe's retry (any non-2xx) stores nothing twice
    and queues again, and the processor is idempotent."""
    secrets = request.use(WebhookSecrets)
    secret = secrets.connect if endpoint == "connect" else secrets.platform
    delivery = request.body
    event = _checked(_verified(delivery, secret), endpoint, secrets.livemode)
    conn = request.db
    assert isinstance(conn, GateConnection)
    conn.execute(STORE, {**event, "body": delivery.payload.decode("utf-8")})
    # Committed before the processor hears of it, so it never finds the event missing.
    conn.execute("COMMIT")
    conn.transaction_ended = True
    conn.sync()
    request.use(WebhookQueue).send(WebhookMessage(event["id"], event["account"]))
    return Received(event_id=event["id"])
