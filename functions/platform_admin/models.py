"""What the platform area takes and gives."""

import datetime as dt
import re
import uuid
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from tenancy import StrictBody

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _name(value: str) -> str:
    value = value.strip()
    if not value:
        raise ValueError("must not be blank")
    return value


Email = Annotated[
    str,
    Field(min_length=3, max_length=320, examples=["giulia@io-osteria.example"]),
    AfterValidator(_email),
]
Name = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]


class NewVenueGroup(StrictBody):
    name: Name


class VenueGroup(BaseModel):
    id: uuid.UUID
    name: str
    created_at: dt.datetime


class NewVenue(StrictBody):
    """A venue in an existing group, with its first owner: an existing account, or an
    address no account has, which is invited (a link by mail) to become the owner."""

    group_id: uuid.UUID
    name: Name
    slug: str = Field(pattern=r"^[a-z0-9][a-z0-9-]{0,62}$")
    #: An IANA time zone, as Postgres knows them.
    timezone: str = Field(default="Europe/Rome", min_length=1, max_length=64)
    currency: str = Field(default="EUR", pattern=r"^[A-Z]{3}$")
    owner_email: Email


class Owner(BaseModel):
    #: Null while the owner is invited (no account yet).
    user_id: uuid.UUID | None
    email: str
    display_name: str | None
    #: ``attached``, or ``invited``: the link to accept went to ``email``.
    status: Literal["attached", "invited"] = "attached"
    invitation_id: uuid.UUID | None = None
    expires_at: dt.datetime | None = None


class CreatedVenue(BaseModel):
    id: uuid.UUID
    group_id: uuid.UUID
    name: str
    slug: str
    timezone: str
    currency: str
    owner: Owner
    created_at: dt.datetime


class PlatformVenue(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    group_id: uuid.UUID
    group_name: str
    timezone: str
    currency: str
    created_at: dt.datetime


class PlatformVenues(BaseModel):
    venues: list[PlatformVenue]


class PlatformUsersQuery(BaseModel):
    """Accounts by email, a page at a time: the next page starts after the last email."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    after: str | None = Field(default=None, max_length=320)
    limit: int = Field(default=100, ge=1, le=500)


class PlatformUser(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    #: Holds the platform-admin flag (granted by operations, never by a route).
    is_platform_admin: bool
    disabled: bool
    created_at: dt.datetime


class PlatformUsers(BaseModel):
    users: list[PlatformUser]


class AccountStatus(StrictBody):
    """Disable the account (every route refused from its next request, no refresh) or
    enable it again."""

    disabled: bool
