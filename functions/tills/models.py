"""What the till routes of a venue take and give. A PIN or a client secret is never logged,
audited or echoed in a validation error (tenancy.events never echoes input)."""

from __future__ import annotations

import datetime as dt
import uuid

from pydantic import BaseModel, Field

from tenancy import StrictBody
from tenancy.pins import PIN_PATTERN

#: A name people read on a screen: no control characters.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class TillRegistration(StrictBody):
    """A till to register at this venue; its name is what the venue calls it."""

    name: str = Field(min_length=1, max_length=100, pattern=_PRINTABLE)


class RegisteredTill(BaseModel):
    """The till's client credentials. ``client_secret`` is shown here once and never again
    (only its SHA-256 is stored): the till exchanges both for its device token at
    ``POST /oauth/token`` (``grant_type=client_credentials``)."""

    client_id: str
    client_secret: str
    name: str
    venue_id: uuid.UUID


class PinChange(StrictBody):
    """A staff member's new PIN: 4 to 8 ASCII digits, unique among the venue's staff."""

    pin: str = Field(pattern=PIN_PATTERN)


class PinSet(BaseModel):
    staff_member_id: uuid.UUID
    pin_set_at: dt.datetime
    #: Whether it replaced a PIN (whose open till sessions were ended).
    replaced: bool
