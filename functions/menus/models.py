import datetime as dt
import uuid

from pydantic import BaseModel, Field

from tenancy import StrictBody


class PriceChange(StrictBody):
    """The new price of a catalogue item at this venue only, in minor units."""

    price_cents: int = Field(ge=0, le=10_000_000)


class VenueMenuItem(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    price_cents: int
    currency: str
    price_updated_at: dt.datetime
