import datetime as dt
import re
import unicodedata
import uuid
from typing import Self

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tenancy import StrictBody
from tenancy.allergens import Allergen

_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_PHONE_SEPARATORS = re.compile(r"[\s().\-/]")
_PHONE = re.compile(r"^\+[1-9][0-9]{6,14}$")


def normalise_email(value: str) -> str:
    """Case and surrounding space do not make another person."""
    email = unicodedata.normalize("NFKC", value).strip().lower()
    if not _EMAIL.match(email):
        raise ValueError("not an email address")
    return email


def normalise_phone(value: str) -> str:
    """E.164: a leading + (or 00) and the country code; separators dropped."""
    phone = _PHONE_SEPARATORS.sub("", unicodedata.normalize("NFKC", value).strip())
    if phone.startswith("00"):
        phone = "+" + phone[2:]
    if not _PHONE.match(phone):
        raise ValueError("not a phone number in international form (+<country><number>)")
    return phone


class CustomerLookup(StrictBody):
    """Find this venue's diner by email or phone (exactly one), or create them. The contact
    itself is not stored: only its keyed hash (the diner's identity)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [{"email": "giulia@io-osteria.example", "display_name": "Giulia"}]
        }
    )

    email: str | None = Field(default=None, min_length=3, max_length=320)
    phone: str | None = Field(default=None, min_length=4, max_length=40)
    #: Used when the diner is created; a found diner keeps theirs.
    display_name: str = Field(default="", max_length=200)

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        return None if value is None else normalise_email(value)

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        return None if value is None else normalise_phone(value)

    @property
    def contact(self) -> tuple[str, str]:
        """(kind, normalised value): what the identity is made of."""
        if self.email is not None:
            return "email", self.email
        assert self.phone is not None
        return "phone", self.phone

    @model_validator(mode="after")
    def _one_contact(self) -> Self:
        if (self.email is None) == (self.phone is None):
            raise ValueError("give exactly one of email and phone")
        return self


class Customer(BaseModel):
    id: uuid.UUID
    display_name: str
    created: bool
    created_at: dt.datetime


class DietaryRecord(StrictBody):
    """The diner's allergens and dietary notes: replaced as a whole, stored sealed."""

    allergens: list[Allergen] = Field(max_length=14)
    dietary_notes: str = Field(default="", max_length=2000)


class CustomerDetail(BaseModel):
    id: uuid.UUID
    display_name: str
    created_at: dt.datetime
    updated_at: dt.datetime
    #: Shown to kitchen roles only (EDIT_MENU); null, with ``dietary_withheld``, to others.
    allergens: list[Allergen] | None
    dietary_notes: str | None
    dietary_withheld: bool
    consent_active: bool


class VisitInput(StrictBody):
    party_size: int = Field(ge=1, le=100)
    #: When the visit happened; now when omitted. Not in the future.
    visited_at: dt.datetime | None = None


class Visit(BaseModel):
    id: uuid.UUID
    venue_id: uuid.UUID
    venue_name: str
    visited_at: dt.datetime
    party_size: int
    #: False for a visit at another venue of the group, shown under the diner's consent.
    here: bool


class CustomerHistory(BaseModel):
    customer_id: uuid.UUID
    consent_active: bool
    visits: list[Visit]


class ConsentInput(StrictBody):
    """Whether this venue may see the diner's visits at the group's other venues."""

    share_group_history: bool


class Consent(BaseModel):
    model_config = ConfigDict(frozen=True)

    customer_id: uuid.UUID
    consent_active: bool
    granted_at: dt.datetime | None
