import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field, HttpUrl

from tenancy import StrictBody

CheckoutStatus = Literal["awaiting_payment", "payment_failed", "placed", "mismatch"]
RefundStatus = Literal["pending", "succeeded", "failed", "canceled"]

#: A client's key for one checkout or refund: sent again after a timeout, it returns the
#: same one.
IdempotencyKey = Field(min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$")


class PaymentStatus(BaseModel):
    """The venue's connected account as Stripe last reported it (``account.updated``)."""

    stripe_account_id: str
    charges_enabled: bool
    payouts_enabled: bool
    details_submitted: bool
    updated_at: dt.datetime


class OnboardingLinkRequest(StrictBody):
    #: Where Stripe sends the manager back when onboarding is done (or left).
    return_url: HttpUrl
    #: Where Stripe sends them when the link has expired or was already used.
    refresh_url: HttpUrl


class OnboardingLink(BaseModel):
    url: str
    expires_at: dt.datetime


class CheckoutLine(StrictBody):
    """An item and how many: its price is always the venue's own, read here."""

    item_id: uuid.UUID
    quantity: int = Field(ge=1, le=100)


class NewCheckout(StrictBody):
    lines: list[CheckoutLine] = Field(min_length=1, max_length=100)
    table_label: str | None = Field(default=None, min_length=1, max_length=40)
    idempotency_key: str = IdempotencyKey


class CheckoutStarted(BaseModel):
    """What Stripe Elements needs to take the card: the PaymentIntent's client secret. The
    order is placed when Stripe confirms the payment, never on the client's word."""

    checkout_id: uuid.UUID
    status: CheckoutStatus
    amount_cents: int
    currency: str
    client_secret: str


class CheckoutState(BaseModel):
    checkout_id: uuid.UUID
    status: CheckoutStatus
    amount_cents: int
    currency: str
    #: Set once Stripe's webhook confirmed the payment and the order was placed.
    order_id: uuid.UUID | None
    order_number: int | None
    created_at: dt.datetime
    updated_at: dt.datetime


class NewRefund(StrictBody):
    amount_cents: int = Field(ge=1, le=100_000_000)
    reason: str | None = Field(default=None, min_length=1, max_length=500)
    idempotency_key: str = IdempotencyKey


class Refund(BaseModel):
    id: uuid.UUID
    order_id: uuid.UUID
    amount_cents: int
    currency: str
    #: ``pending`` until Stripe's webhook confirms the outcome.
    status: RefundStatus
    #: What remains refundable of the order's payment after this refund.
    remaining_cents: int
    created_at: dt.datetime
