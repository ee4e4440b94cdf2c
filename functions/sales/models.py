import datetime as dt
import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, model_validator

#: The longest range one summary covers, in days.
MAX_DAYS = 366


class SalesQuery(BaseModel):
    """Calendar days of the venue (its time zone), both included; by default the last seven
    days up to today."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=False)

    from_: dt.date | None = Field(default=None, alias="from")
    to: dt.date | None = None

    @model_validator(mode="after")
    def _a_range(self) -> Self:
        if self.from_ is not None and self.to is not None:
            if self.from_ > self.to:
                raise ValueError("from must not be after to")
            if (self.to - self.from_).days >= MAX_DAYS:
                raise ValueError(f"a summary covers at most {MAX_DAYS} days")
        return self


class Totals(BaseModel):
    orders: int
    total_cents: int


class DayTotals(Totals):
    day: dt.date


class ItemTotals(BaseModel):
    item_id: uuid.UUID | None
    name: str
    quantity: int
    total_cents: int


class StaffTotals(Totals):
    #: None: orders taken by nobody in particular (online orders).
    staff_member_id: uuid.UUID | None
    display_name: str | None


class SalesSummary(BaseModel):
    """Orders that were not cancelled, by the venue's calendar day, item and staff member."""

    from_: dt.date = Field(alias="from")
    to: dt.date
    timezone: str
    currency: str
    total: Totals
    by_day: list[DayTotals]
    by_item: list[ItemTotals]
    by_staff: list[StaffTotals]
