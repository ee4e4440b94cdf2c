"""What the payments and webhooks areas share: Stripe's client, the webhook signing secrets
and the webhook queue (docs/architecture.md, "Payments").

Each is a collaborator (``Request.use``), built from the environment on first use, or given
to the runtime by tests and the local stack. ``stripe`` and ``boto3`` are imported when a
function first calls Stripe or the queue, never at cold start.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field

__all__ = [
    "DEFAULT_FEE_BPS",
    "PaymentSettings",
    "SqsWebhookQueue",
    "StripeApi",
    "WebhookMessage",
    "WebhookQueue",
    "WebhookSecrets",
    "platform_fee",
]

#: The platform's fee when the deployment sets none: 2.5 % of the amount charged.
DEFAULT_FEE_BPS = 250


class PaymentSettings(BaseModel):
    """What the payments collaborators read from the environment (template.yaml sets them
    from the route's needs: ``Need.STRIPE_API``, ``WEBHOOK_SECRETS``, ``WEBHOOK_QUEUE``)."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    #: Stripe's secret API key; in AWS read from the secret ``stripe_secret_arn``
    #: (``{"secret_key": ...}``).
    stripe_secret_key: str = ""
    stripe_secret_arn: str = ""
    #: Where Stripe's API is: Stripe's own when empty (the local fake in `make dev`).
    stripe_api_base: str = ""
    #: The platform's fee on each payment, in basis points.
    platform_fee_bps: int = Field(default=250, ge=0, le=10_000)
    #: The two endpoints' signing secrets; in AWS read from ``stripe_webhook_secret_arn``
    #: (``{"webhook_secret": ..., "connect_webhook_secret": ...}``).
    stripe_webhook_secret: str = ""
    stripe_connect_webhook_secret: str = ""
    stripe_webhook_secret_arn: str = ""
    #: Whether this deployment takes live-mode events ("true") or test-mode ones.
    stripe_livemode: bool = False
    #: The SQS FIFO queue the ingress hands stored events to.
    webhook_queue_url: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> PaymentSettings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        )


def platform_fee(amount_cents: int, fee_bps: int) -> int:
    """The platform's fee on ``amount_cents``, in basis points, rounded half up to a whole
    minor unit (integers only), never more than the amount."""
    return min(amount_cents, (amount_cents * fee_bps + 5_000) // 10_000)


def _secret_json(arn: str) -> dict[str, Any]:
    import boto3

    value = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    loaded: dict[str, Any] = json.loads(value)
    return loaded


@dataclass
class StripeApi:
    """Stripe's API as the platform: its secret key, where the API is (Stripe's own unless
    ``api_base`` says otherwise: the local fake), the platform fee and the mode."""

    secret_key: str = field(repr=False)
    api_base: str = ""
    fee_bps: int = DEFAULT_FEE_BPS
    _client: Any = field(default=None, repr=False)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @classmethod
    def from_environment(cls) -> Self:
        config = PaymentSettings.from_env()
        key = config.stripe_secret_key
        if not key:
            if not config.stripe_secret_arn:
                raise RuntimeError("set STRIPE_SECRET_KEY or STRIPE_SECRET_ARN")
            key = str(_secret_json(config.stripe_secret_arn)["secret_key"])
        return cls(secret_key=key, api_base=config.stripe_api_base, fee_bps=config.platform_fee_bps)

    def client(self) -> Any:
        """A ``stripe.StripeClient``, made once (network retries on, which the idempotency
        keys make safe)."""
        with self._lock:
            if self._client is None:
                import stripe

                addresses: Any = {"api": self.api_base} if self.api_base else None
                self._client = stripe.StripeClient(
                    self.secret_key, base_addresses=addresses, max_network_retries=2
                )
            return self._client


@dataclass(frozen=True)
class WebhookSecrets:
    """The signing secrets of the two webhook endpoints, and whether this deployment takes
    live-mode events (``STRIPE_LIVEMODE=true``) or test-mode ones."""

    platform: str = field(repr=False)
    connect: str = field(repr=False)
    livemode: bool = False

    @classmethod
    def from_environment(cls) -> Self:
        config = PaymentSettings.from_env()
        platform, connect = config.stripe_webhook_secret, config.stripe_connect_webhook_secret
        if not (platform and connect):
            if not config.stripe_webhook_secret_arn:
                raise RuntimeError(
                    "set STRIPE_WEBHOOK_SECRET and STRIPE_CONNECT_WEBHOOK_SECRET, or"
                    " STRIPE_WEBHOOK_SECRET_ARN"
                )
            stored = _secret_json(config.stripe_webhook_secret_arn)
            platform = str(stored["webhook_secret"])
            connect = str(stored["connect_webhook_secret"])
        return cls(platform=platform, connect=connect, livemode=config.stripe_livemode)


@dataclass(frozen=True)
class WebhookMessage:
    """What the queue carries: the stored event's id and its connected account (the FIFO
    group, so one account's events are applied in the order they arrived)."""

    event_id: str
    account: str | None

    def body(self) -> str:
        return json.dumps({"v": 1, "event_id": self.event_id}, separators=(",", ":"))

    @property
    def group(self) -> str:
        return self.account or "platform"

    @classmethod
    def parse(cls, body: str) -> str:
        """The event id a message names; ValueError for anything else."""
        data = json.loads(body)
        if not isinstance(data, dict) or data.get("v") != 1 or set(data) != {"v", "event_id"}:
            raise ValueError("not a webhook message of a known version")
        event_id = data["event_id"]
        if not isinstance(event_id, str) or not event_id.startswith("evt_"):
            raise ValueError("the message names no Stripe event")
        return event_id


class WebhookQueue:
    """Where the ingress hands a stored event to the processor: the SQS FIFO webhook queue
    (``WEBHOOK_QUEUE_URL``), or whatever ``send`` a test or the local stack gives."""

    def __init__(self, send: Callable[[WebhookMessage], None]) -> None:
        self._send = send

    def send(self, message: WebhookMessage) -> None:
        self._send(message)

    @classmethod
    def from_environment(cls) -> Self:
        url = PaymentSettings.from_env().webhook_queue_url
        if not url:
            raise RuntimeError("set WEBHOOK_QUEUE_URL")
        return cls(SqsWebhookQueue(url))


class SqsWebhookQueue:
    """Sends to the SQS FIFO webhook queue: group = the connected account, deduplication =
    the event id (a redelivery within five minutes is dropped by SQS; a later one is
    harmless: the processor is idempotent)."""

    def __init__(self, url: str, client: Callable[[], Any] | None = None) -> None:
        self.url = url
        self._make_client = client or _sqs_client
        self._client: Any = None
        self._lock = threading.Lock()

    def __call__(self, message: WebhookMessage) -> None:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
        self._client.send_message(
            QueueUrl=self.url,
            MessageBody=message.body(),
            MessageGroupId=message.group,
            MessageDeduplicationId=message.event_id,
        )


def _sqs_client() -> Any:
    import boto3
    from botocore.config import Config

    # Stripe waits for the answer (and retries when it is slow): short timeouts.
    config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2})
    return boto3.client("sqs", config=config)


def event_summary(event: Mapping[str, Any]) -> dict[str, Any]:
    """The fields of an event a log line may carry (never the object's contents)."""
    return {key: event.get(key) for key in ("id", "type", "account", "livemode")}
