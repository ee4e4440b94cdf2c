"""The group's recipe library and supplier list: read by the staff of any venue of the
group with the flag (recipes VIEW_ORDERS, suppliers EDIT_MENU), edited by its owners
(MANAGE_GROUP), each edit with its audit event, before and after."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg

from library import queries
from library.models import NewRecipe, Recipe, RecipeContent, Supplier, SupplierContent
from tenancy import Problem, not_found
from tenancy.audit import record


def _recipe(row: dict[str, Any]) -> Recipe:
    return Recipe.model_validate(row)


def _audited_recipe(row: dict[str, Any] | RecipeContent) -> dict[str, Any]:
    """A recipe as an audit event keeps it: what it carries is listed as ``carries`` (audit
    details never name allergens as a key, whatever they hold)."""
    if isinstance(row, RecipeContent):
        row = row.model_dump()
    return {
        "ingredients": [dict(i) for i in row["ingredients"]],
        "method": row["method"],
        "carries": sorted(row["allergens"]),
    }


def list_recipes(conn: psycopg.Connection) -> list[Recipe]:
    return [_recipe(row) for row in queries.rows(conn, queries.RECIPES)]


def get_recipe(conn: psycopg.Connection, recipe_id: uuid.UUID) -> Recipe:
    row = queries.one(conn, queries.RECIPE, recipe=recipe_id)
    if row is None:
        raise not_found("recipe")
    return _recipe(row)


def create_recipe(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    recipe: NewRecipe,
    actor_user_id: uuid.UUID | None,
) -> Recipe:
    item = queries.one(conn, queries.ITEM_FOR_RECIPE, item=recipe.item_id)
    if item is None:
        raise not_found("menu item")
    if item["has_recipe"]:
        raise Problem(
            409, "recipe-exists", "this catalogue item has a recipe already: change that one"
        )
    recipe_id = uuid.uuid4()
    content = RecipeContent(
        ingredients=recipe.ingredients,
        method=recipe.method,
        allergens=sorted(set(recipe.allergens)),
    )
    queries.write_recipe(
        conn,
        queries.INSERT_RECIPE,
        id=recipe_id,
        group=item["group_id"],
        item=item["id"],
        ingredients=[i.model_dump() for i in content.ingredients],
        method=content.method,
        allergens=list(content.allergens),
        now=item["now"],
    )
    record(
        conn,
        action="library.recipe_created",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="recipe",
        target_id=recipe_id,
        details={"item_id": str(item["id"]), "before": None, "after": _audited_recipe(content)},
    )
    return Recipe.model_validate(
        {
            **content.model_dump(),
            "id": recipe_id,
            "item_id": item["id"],
            "item_name": item["name"],
            "updated_at": item["now"],
        }
    )


def change_recipe(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    recipe_id: uuid.UUID,
    content: RecipeContent,
    actor_user_id: uuid.UUID | None,
) -> Recipe:
    row = queries.one(conn, queries.RECIPE_FOR_CHANGE, recipe=recipe_id)
    if row is None:
        raise not_found("recipe")
    content = RecipeContent(
        ingredients=content.ingredients,
        method=content.method,
        allergens=sorted(set(content.allergens)),
    )
    queries.write_recipe(
        conn,
        queries.UPDATE_RECIPE,
        id=recipe_id,
        ingredients=[i.model_dump() for i in content.ingredients],
        method=content.method,
        allergens=list(content.allergens),
        now=row["now"],
    )
    record(
        conn,
        action="library.recipe_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="recipe",
        target_id=recipe_id,
        details={"before": _audited_recipe(row), "after": _audited_recipe(content)},
    )
    return Recipe.model_validate({**row, **content.model_dump(), "updated_at": row["now"]})


def _supplier_details(row: dict[str, Any] | SupplierContent) -> dict[str, Any]:
    if isinstance(row, SupplierContent):
        row = row.model_dump()
    return {"name": row["name"], "contact": row["contact"], "supplies": list(row["supplies"])}


def list_suppliers(conn: psycopg.Connection) -> list[Supplier]:
    return [Supplier.model_validate(row) for row in queries.rows(conn, queries.SUPPLIERS)]


def get_supplier(conn: psycopg.Connection, supplier_id: uuid.UUID) -> Supplier:
    row = queries.one(conn, queries.SUPPLIER, supplier=supplier_id)
    if row is None:
        raise not_found("supplier")
    return Supplier.model_validate(row)


def create_supplier(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    supplier: SupplierContent,
    actor_user_id: uuid.UUID | None,
) -> Supplier:
    venue = queries.one(conn, queries.GROUP_OF_VENUE, venue=venue_id)
    if venue is None:
        raise not_found("venue")
    supplier_id = uuid.uuid4()
    queries.write_supplier(
        conn,
        queries.INSERT_SUPPLIER,
        id=supplier_id,
        group=venue["group_id"],
        name=supplier.name,
        contact=supplier.contact,
        supplies=list(supplier.supplies),
        now=venue["now"],
    )
    record(
        conn,
        action="library.supplier_created",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="supplier",
        target_id=supplier_id,
        details={"before": None, "after": _supplier_details(supplier)},
    )
    return Supplier(id=supplier_id, updated_at=venue["now"], **supplier.model_dump())


def change_supplier(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    supplier_id: uuid.UUID,
    supplier: SupplierContent,
    actor_user_id: uuid.UUID | None,
) -> Supplier:
    row = queries.one(conn, queries.SUPPLIER_FOR_CHANGE, supplier=supplier_id)
    if row is None:
        raise not_found("supplier")
    queries.write_supplier(
        conn,
        queries.UPDATE_SUPPLIER,
        id=supplier_id,
        name=supplier.name,
        contact=supplier.contact,
        supplies=list(supplier.supplies),
        now=row["now"],
    )
    record(
        conn,
        action="library.supplier_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="supplier",
        target_id=supplier_id,
        details={"before": _supplier_details(row), "after": _supplier_details(supplier)},
    )
    return Supplier(id=supplier_id, updated_at=row["now"], **supplier.model_dump())
