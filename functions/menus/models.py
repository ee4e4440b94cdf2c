import datetime as dt
import uuid
from typing import Annotated, Self

from pydantic import AfterValidator, BaseModel, Field, WithJsonSchema, model_validator

from tenancy import StrictBody
from tenancy import allergens as tenancy_allergens

#: The fourteen allergens of EU regulation 1169/2011, Annex II: the platform's one vocabulary
#: (the schema checks the same list).
ALLERGENS = tenancy_allergens.ALLERGENS


def _allergen(value: str) -> str:
    # The refusal names no allergen: error bodies never carry one (not even the list).
    if value not in ALLERGENS:
        raise ValueError("not one of the fourteen allergens of EU regulation 1169/2011")
    return value


Allergen = Annotated[
    str,
    AfterValidator(_allergen),
    WithJsonSchema({"type": "string", "enum": list(ALLERGENS)}),
]

Name = Field(min_length=1, max_length=200)
Category = Field(min_length=1, max_length=80)


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


class NewCatalogueItem(StrictBody):
    """A dish or drink of the group's catalogue (every venue of the group sees it)."""

    name: str = Name
    description: str = Field(default="", max_length=1000)
    category: str = Category
    allergens: list[Allergen] = Field(default_factory=list, max_length=14)
    active: bool = True


class CatalogueItemChange(StrictBody):
    """A merge patch of a catalogue item: the fields sent change, the others stay."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    description: str | None = Field(default=None, max_length=1000)
    category: str | None = Field(default=None, min_length=1, max_length=80)
    allergens: list[Allergen] | None = Field(default=None, max_length=14)
    active: bool | None = None

    @model_validator(mode="after")
    def _something_and_no_nulls(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        removed = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if removed:
            raise ValueError(f"these fields cannot be removed: {', '.join(removed)}")
        return self


class CatalogueItem(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    category: str
    allergens: list[Allergen]
    active: bool
    updated_at: dt.datetime


class AvailabilityChange(StrictBody):
    """Whether the item can be ordered at this venue today."""

    available: bool


class ItemAvailability(BaseModel):
    item_id: uuid.UUID
    available: bool
    updated_at: dt.datetime


class MenuEntry(BaseModel):
    id: uuid.UUID
    name: str
    description: str
    category: str
    allergens: list[Allergen]
    #: None: the item has no price at this venue yet.
    price_cents: int | None
    available: bool


class VenueMenu(BaseModel):
    """The group's active catalogue as this venue serves it: its own prices and
    availability, by category then name."""

    venue_id: uuid.UUID
    currency: str
    items: list[MenuEntry]
