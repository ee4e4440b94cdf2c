import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

OrderStatus = Literal["open", "preparing", "ready", "served", "paid", "cancelled"]


class OrderQueueQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    status: OrderStatus | None = None
    limit: int = Field(default=50, ge=1, le=200)


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
