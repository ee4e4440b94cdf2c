import datetime as dt
import uuid

from pydantic import BaseModel, ConfigDict, Field

from tenancy import StrictBody


class StockCountEntry(StrictBody):
    """How many portions of the item are in stock, counted today (or a correction of an
    earlier day's count, named by ``day``, in the venue's calendar)."""

    quantity: int = Field(ge=0, le=1_000_000)
    day: dt.date | None = None


class StockCount(BaseModel):
    item_id: uuid.UUID
    name: str
    day: dt.date
    quantity: int
    counted_by: uuid.UUID
    counted_at: dt.datetime


class StockCountsQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The venue's calendar day; today there by default.
    day: dt.date | None = None


class StockCounts(BaseModel):
    day: dt.date
    counts: list[StockCount]
