import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from orders.states import Action, Status
from tenancy import StrictBody

OrderStatus = Status


class OrderQueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: OrderStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)
    #: The cursor: orders numbered below this one (the previous page's ``next_before``).
    before: int | None = Field(default=None, ge=1, le=2_000_000_000)


class OrderLine(BaseModel):
    name: str
    quantity: int
    unit_price_cents: int


class Order(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    channel: Literal["till", "online"]
    table_label: str | None
    total_cents: int
    created_at: dt.datetime
    items: list[OrderLine]


class OrderQueue(BaseModel):
    orders: list[Order]
    #: Pass as ``before`` for the next page; null on the last page.
    next_before: int | None = None


class NewOrderLine(StrictBody):
    """A line names a catalogue item and a quantity: its price is always the venue's own."""

    item_id: uuid.UUID
    quantity: int = Field(ge=1, le=100)


class NewOrder(StrictBody):
    lines: list[NewOrderLine] = Field(min_length=1, max_length=100)
    table_label: str | None = Field(default=None, min_length=1, max_length=40)
    #: The till's key for this order: sent again after a timeout, it returns the same order.
    idempotency_key: str | None = Field(
        default=None, min_length=8, max_length=100, pattern=r"^[A-Za-z0-9._:-]+$"
    )


class OrderDetailLine(BaseModel):
    item_id: uuid.UUID | None
    name: str
    quantity: int
    unit_price_cents: int


class OrderDetail(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    channel: Literal["till", "online"]
    table_label: str | None
    total_cents: int
    created_at: dt.datetime
    updated_at: dt.datetime
    shift_id: uuid.UUID | None
    staff_member_id: uuid.UUID | None
    cancel_reason: str | None
    items: list[OrderDetailLine]


class OrderTransition(StrictBody):
    action: Action
    reason: str | None = Field(default=None, min_length=1, max_length=500)


class InvoiceRef(BaseModel):
    id: uuid.UUID
    fiscal_year: int
    number: int


class OrderMoved(BaseModel):
    id: uuid.UUID
    number: int
    status: OrderStatus
    previous_status: OrderStatus
    #: The invoice closing the order issued.
    invoice: InvoiceRef | None = None


class Seller(BaseModel):
    legal_name: str
    vat_number: str | None
    address: str | None


class VatLine(BaseModel):
    rate_bps: int
    net_cents: int
    vat_cents: int
    gross_cents: int


class Invoice(BaseModel):
    id: uuid.UUID
    kind: Literal["invoice", "credit_note"]
    fiscal_year: int
    number: int
    order_id: uuid.UUID
    corrects_invoice_id: uuid.UUID | None
    issued_at: dt.datetime
    seller: Seller
    currency: str
    net_cents: int
    vat_cents: int
    gross_cents: int
    vat_lines: list[VatLine]
    reason: str | None


class InvoiceList(BaseModel):
    invoices: list[Invoice]


class InvoiceQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    fiscal_year: int | None = Field(default=None, ge=2000, le=2999)
    kind: Literal["invoice", "credit_note"] | None = None
    limit: int = Field(default=50, ge=1, le=200)


class CreditNoteRequest(StrictBody):
    reason: str = Field(min_length=1, max_length=500)
