"""Payments in tests: the runtime's Stripe collaborators (the fake Stripe's keys and
secrets, the webhook queue as a list), Stripe's signature scheme for deliveries the tests
forge, and the processor on the app_payments role fed from that list."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from infra.local.client import ApiClient, Response
from tenancy.payments import StripeApi, WebhookMessage, WebhookQueue, WebhookSecrets
from tests.support.fake_stripe import FakeStripe

__all__ = [
    "ENDPOINT_PATHS",
    "ListQueue",
    "Payments",
    "event_body",
    "payments_collaborators",
    "signature",
]

#: Where nothing listens: Stripe calls fail fast (a 502 problem) until a test points the
#: runtime at the fake (the ``payments`` fixture).
UNREACHABLE = "http://127.0.0.1:9"
ENDPOINT_PATHS = {"platform": "/webhooks/stripe", "connect": "/webhooks/stripe/connect"}


class ListQueue(WebhookQueue):
    """The webhook queue as a list the test drains into the processor."""

    def __init__(self) -> None:
        self.messages: list[WebhookMessage] = []
        super().__init__(self.messages.append)

    def take(self) -> list[WebhookMessage]:
        taken, self.messages[:] = list(self.messages), []
        return taken


def payments_collaborators(api_base: str = UNREACHABLE) -> dict[type, Any]:
    return {
        StripeApi: StripeApi(secret_key=FakeStripe.secret_key, api_base=api_base),
        WebhookSecrets: WebhookSecrets(
            platform=FakeStripe.platform_webhook_secret,
            connect=FakeStripe.connect_webhook_secret,
            livemode=False,
        ),
        WebhookQueue: ListQueue(),
    }


def signature(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """A ``Stripe-Signature`` header as Stripe writes it: ``t=<unix time>,v1=<HMAC-SHA256
    hex of "<t>.<payload>" under the endpoint's secret>``."""
    stamp = int(time.time()) if timestamp is None else timestamp
    mac = hmac.new(secret.encode(), f"{stamp}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={stamp},v1={mac}"


def event_body(
    kind: str = "payment_intent.created",
    *,
    account: str | None = "acct_testforged",
    livemode: bool = False,
    obj: dict[str, Any] | None = None,
    event_id: str | None = None,
) -> bytes:
    """An event in Stripe's shape (API version 2024+)."""
    event: dict[str, Any] = {
        "id": event_id or f"evt_{uuid.uuid4().hex}",
        "object": "event",
        "api_version": "2025-01-27.acacia",
        "created": int(time.time()),
        "data": {
            "object": obj or {"id": f"pi_{uuid.uuid4().hex[:24]}", "object": "payment_intent"}
        },
        "livemode": livemode,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
        "type": kind,
    }
    if account is not None:
        event["account"] = account
    return json.dumps(event).encode()


@dataclass
class Payments:
    """The API, the fake Stripe and the processor, wired as in AWS: Stripe's deliveries are
    POSTed to the webhook routes byte for byte; what the routes queue is processed."""

    api: ApiClient
    fake: FakeStripe
    queue: ListQueue
    processor: Any
    outcomes: list[str] = field(default_factory=list)

    def post(self, endpoint: str, body: bytes, signed: str | None) -> Response:
        headers = {"content-type": "application/json; charset=utf-8"}
        if signed is not None:
            headers["stripe-signature"] = signed
        return self.api.request("POST", ENDPOINT_PATHS[endpoint], body=body, headers=headers)

    def deliver(self, delivery: dict[str, Any]) -> Response:
        body = delivery["body"]
        return self.post(
            delivery["endpoint"],
            body.encode() if isinstance(body, str) else bytes(body),
            delivery["signature"],
        )

    def deliver_after(self, seq: int, *, types: set[str] | None = None) -> list[Response]:
        return [
            self.deliver(delivery)
            for delivery in self.fake.deliveries(after=seq)
            if types is None or delivery["type"] in types
        ]

    def process_queued(self) -> list[str]:
        from webhooks.processor import process

        outcomes = [process(self.processor, m.event_id) for m in self.queue.take()]
        self.outcomes += outcomes
        return outcomes

    def settle(self, seq: int, *, types: set[str] | None = None) -> list[str]:
        """Every delivery the fake made after ``seq`` (of ``types``), through the ingress
        and the processor."""
        for response in self.deliver_after(seq, types=types):
            assert response.status == 200, response.text
        return self.process_queued()
