"""What the people routes take and give: attachments, the staff roster, the role catalogue."""

import datetime as dt
import re
import uuid
from typing import Annotated, Literal, Self

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, WithJsonSchema, model_validator

from tenancy import Permission, Role, StrictBody

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
FLAG_NAMES = [flag.name for flag in Permission if flag.name]


def _email(value: str) -> str:
    value = value.strip().lower()
    if not _EMAIL.match(value):
        raise ValueError("not an email address")
    return value


def _flag(value: str) -> str:
    if value not in FLAG_NAMES:
        raise ValueError("not a permission flag (GET /roles lists them)")
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
FlagName = Annotated[
    str, AfterValidator(_flag), WithJsonSchema({"type": "string", "enum": FLAG_NAMES})
]
DisplayName = Annotated[str, Field(min_length=1, max_length=200), AfterValidator(_name)]


def flags_of(names: list[str]) -> Permission:
    value = Permission(0)
    for name in names:
        value |= Permission[name]
    return value


# --- attachments --------------------------------------------------------------------------


class NewAttachment(StrictBody):
    """Attach the account with this email, with a role; its flags are the role's defaults
    unless ``permissions`` names them. When no account has the email, the person is invited
    (a link by mail) to make one, which is then attached the same way."""

    email: Email
    role: Role
    permissions: list[FlagName] | None = Field(default=None, max_length=len(FLAG_NAMES))


class AttachmentChange(StrictBody):
    """A new role (its default flags, unless ``permissions`` is given too), new flags, or
    both."""

    role: Role | None = None
    permissions: list[FlagName] | None = Field(default=None, max_length=len(FLAG_NAMES))

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if self.role is None and self.permissions is None:
            raise ValueError("give a role, permissions or both")
        return self


class Attachment(BaseModel):
    """An account attached to the venue, or a pending invitation to make one."""

    #: The account; null for an invitation (no account yet).
    user_id: uuid.UUID | None
    email: str
    #: Null for an invitation: the person gives their name when they accept.
    display_name: str | None
    role: str
    permissions: list[str]
    #: The account is disabled on the platform (it reaches no route).
    account_disabled: bool
    created_at: dt.datetime
    #: ``attached``: the account acts here. ``invited``: a link was mailed to the address,
    #: and accepting it attaches the new account with this role and these flags.
    #: ``expired``: that link no longer works (invite again for a new one).
    status: Literal["attached", "invited", "expired"] = "attached"
    #: An invitation's id: ``DELETE /venues/{venue_id}/attachments/{invitation_id}`` cancels it.
    invitation_id: uuid.UUID | None = None
    #: When an invitation's link stops working.
    expires_at: dt.datetime | None = None


class Attachments(BaseModel):
    attachments: list[Attachment]


# --- the staff roster ---------------------------------------------------------------------


class StaffQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Deactivated members too.
    include_inactive: bool = False


class NewStaffMember(StrictBody):
    display_name: DisplayName
    role: Role
    #: The account of this person, if they have one: it must be attached to the venue.
    user_id: uuid.UUID | None = None


class StaffMemberChange(StrictBody):
    """The fields to change; ``user_id: null`` unlinks the account, ``active: false``
    deactivates the member (there is no delete: orders keep naming who took them)."""

    display_name: DisplayName | None = None
    role: Role | None = None
    user_id: uuid.UUID | None = None
    active: bool | None = None

    @model_validator(mode="after")
    def _changes_something(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("give at least one field to change")
        for name in ("display_name", "role", "active"):
            if name in self.model_fields_set and getattr(self, name) is None:
                raise ValueError(f"{name} cannot be null")
        return self


class StaffMember(BaseModel):
    id: uuid.UUID
    display_name: str
    role: str
    user_id: uuid.UUID | None
    active: bool
    created_at: dt.datetime


class StaffRoster(BaseModel):
    staff: list[StaffMember]


# --- the role catalogue -------------------------------------------------------------------


class RoleDefaults(BaseModel):
    role: str
    permissions: list[str]


class FlagMeaning(BaseModel):
    name: str
    #: Its bit in an attachment's stored flags.
    value: int
    meaning: str


class RoleCatalogue(BaseModel):
    roles: list[RoleDefaults]
    permissions: list[FlagMeaning]
