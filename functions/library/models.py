import datetime as dt
import uuid

from pydantic import BaseModel, Field

from tenancy import StrictBody
from tenancy.allergens import Allergen


class Ingredient(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    quantity: float = Field(gt=0, le=1_000_000)
    unit: str = Field(min_length=1, max_length=20)


class RecipeContent(StrictBody):
    """What a recipe says: replaced as a whole."""

    ingredients: list[Ingredient] = Field(min_length=1, max_length=100)
    method: str = Field(max_length=20_000)
    #: The allergens the dish carries (EU 1169/2011, Annex II).
    allergens: list[Allergen] = Field(max_length=14)


class NewRecipe(RecipeContent):
    #: The group's catalogue item this is the recipe of (one recipe per item).
    item_id: uuid.UUID


class IngredientOut(BaseModel):
    name: str
    quantity: float
    unit: str


class Recipe(BaseModel):
    id: uuid.UUID
    item_id: uuid.UUID
    item_name: str
    ingredients: list[IngredientOut]
    method: str
    allergens: list[Allergen]
    updated_at: dt.datetime


class Recipes(BaseModel):
    recipes: list[Recipe]


class SupplierContent(StrictBody):
    name: str = Field(min_length=1, max_length=200)
    #: How to reach them (a phone, an email, a person): business contact, shown to the group.
    contact: str = Field(default="", max_length=500)
    #: What they supply.
    supplies: list[str] = Field(default_factory=list, max_length=100)


class Supplier(BaseModel):
    id: uuid.UUID
    name: str
    contact: str
    supplies: list[str]
    updated_at: dt.datetime


class Suppliers(BaseModel):
    suppliers: list[Supplier]
