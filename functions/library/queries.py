"""SQL of the group's library. Row-level security holds every statement to the bound
venue's group, and reading needs the flag too (recipes VIEW_ORDERS, suppliers EDIT_MENU)."""

from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

_RECIPE = """
SELECT r.id, r.item_id, i.name AS item_name, r.ingredients, r.method, r.allergens,
       r.updated_at
FROM recipes r JOIN menu_items i ON i.id = r.item_id
"""

RECIPES = _RECIPE + " ORDER BY i.name, r.id"
RECIPE = _RECIPE + " WHERE r.id = %(recipe)s"

# The item as this venue sees it (its group's only), whether it has a recipe yet, and the
# transaction's timestamp.
ITEM_FOR_RECIPE = """
SELECT i.id, i.group_id, i.name, now() AS now,
       EXISTS (SELECT 1 FROM recipes r WHERE r.item_id = i.id) AS has_recipe
FROM menu_items i WHERE i.id = %(item)s
"""

RECIPE_FOR_CHANGE = _RECIPE.replace("SELECT", "SELECT now() AS now,", 1) + (
    " WHERE r.id = %(recipe)s FOR UPDATE OF r"
)

INSERT_RECIPE = """
INSERT INTO recipes (id, group_id, item_id, ingredients, method, allergens, created_at,
                     updated_at)
VALUES (%(id)s, %(group)s, %(item)s, %(ingredients)s, %(method)s, %(allergens)s, %(now)s,
        %(now)s)
"""

UPDATE_RECIPE = """
UPDATE recipes SET ingredients = %(ingredients)s, method = %(method)s,
                   allergens = %(allergens)s, updated_at = %(now)s
WHERE id = %(id)s
"""

_SUPPLIER = "SELECT s.id, s.name, s.contact, s.supplies, s.updated_at FROM suppliers s"
SUPPLIERS = _SUPPLIER + " ORDER BY s.name, s.id"
SUPPLIER = _SUPPLIER + " WHERE s.id = %(supplier)s"
SUPPLIER_FOR_CHANGE = (
    "SELECT s.id, s.name, s.contact, s.supplies, s.updated_at, now() AS now FROM suppliers s"
    " WHERE s.id = %(supplier)s FOR UPDATE"
)
GROUP_OF_VENUE = "SELECT v.group_id, now() AS now FROM venues v WHERE v.id = %(venue)s"

INSERT_SUPPLIER = """
INSERT INTO suppliers (id, group_id, name, contact, supplies, created_at, updated_at)
VALUES (%(id)s, %(group)s, %(name)s, %(contact)s, %(supplies)s, %(now)s, %(now)s)
"""

UPDATE_SUPPLIER = """
UPDATE suppliers SET name = %(name)s, contact = %(contact)s, supplies = %(supplies)s,
                     updated_at = %(now)s
WHERE id = %(id)s
"""


def rows(conn: psycopg.Connection, query: str, **params: Any) -> list[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchall()


def one(conn: psycopg.Connection, query: str, **params: Any) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchone()


def write_recipe(conn: psycopg.Connection, query: str, **params: Any) -> None:
    params["ingredients"] = Jsonb(params["ingredients"])
    conn.execute(query, params)


def write_supplier(conn: psycopg.Connection, query: str, **params: Any) -> None:
    conn.execute(query, params)
