"""What opening a till session takes and gives."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, Field

from tenancy import StrictBody
from tenancy.pins import PIN_PATTERN


class PinEntry(StrictBody):
    """A staff PIN entered on the till: 4 to 8 ASCII digits."""

    pin: str = Field(pattern=PIN_PATTERN)


class TillStaffMember(BaseModel):
    id: uuid.UUID
    display_name: str
    role: str


class TillSessionOpened(BaseModel):
    """The till session's token: an RFC 9068 access token (scope ``till-session``) naming
    the till session (``sid``), its venue, staff member and device. It lives until the
    session's end; the session also ends after ``idle_timeout_seconds`` without a request,
    or when the till is locked."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: Literal["till-session"] = "till-session"
    session_id: uuid.UUID
    venue_id: uuid.UUID
    staff_member: TillStaffMember
    expires_at: dt.datetime
    idle_timeout_seconds: int
