"""SQL of the menus area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument

# The catalogue item as this venue sees it (row-level security: its group's items only),
# with this venue's current price locked, so the audit event's "previous" is exact, and the
# transaction's timestamp, which the write below stamps.
ITEM_FOR_PRICE_CHANGE = """
SELECT i.id, i.group_id, i.name, i.description, v.currency, now() AS now,
       (SELECT p.price_cents FROM menu_item_prices p
        WHERE p.venue_id = %(venue)s AND p.item_id = i.id FOR UPDATE) AS previous_price_cents
FROM menu_items i JOIN venues v ON v.id = %(venue)s
WHERE i.id = %(item)s
"""

# Written for the bound venue only; its answer is not awaited (it commits with the audit
# event in the request's second round trip).
WRITE_PRICE = """
INSERT INTO menu_item_prices (venue_id, group_id, item_id, price_cents)
VALUES (%(venue)s, %(group)s, %(item)s, %(price)s)
ON CONFLICT (venue_id, item_id)
DO UPDATE SET price_cents = EXCLUDED.price_cents, updated_at = now()
"""


def item_for_price_change(
    conn: psycopg.Connection, venue_id: uuid.UUID, item_id: uuid.UUID
) -> dict[str, Any] | None:
    """None when the item is not in this venue's catalogue."""
    return (
        conn.cursor(row_factory=dict_row)
        .execute(ITEM_FOR_PRICE_CHANGE, {"venue": venue_id, "item": item_id})
        .fetchone()
    )


def write_price(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    group_id: uuid.UUID,
    item_id: uuid.UUID,
    price_cents: int,
) -> None:
    conn.execute(
        WRITE_PRICE, {"venue": venue_id, "group": group_id, "item": item_id, "price": price_cents}
    )


# The venue's menu as one JSON document shaped like ``VenueMenu``: the group's active items
# (row-level security: the bound venue's group only) with this venue's price and
# availability (no availability row: available).
VENUE_MENU = """
SELECT json_build_object(
    'venue_id', v.id,
    'currency', trim(v.currency),
    'items', coalesce(
        (SELECT json_agg(json_build_object(
                    'id', i.id, 'name', i.name, 'description', i.description,
                    'category', i.category, 'allergens', i.allergens,
                    'price_cents', p.price_cents, 'available', coalesce(a.available, true))
                ORDER BY i.category, i.name, i.id)
         FROM menu_items i
         LEFT JOIN menu_item_prices p ON p.venue_id = v.id AND p.item_id = i.id
         LEFT JOIN menu_item_availability a ON a.venue_id = v.id AND a.item_id = i.id
         WHERE i.group_id = v.group_id AND i.active),
        '[]'::json))::text
FROM venues v
WHERE v.id = %(venue)s
"""

# The bound venue's group and the transaction's timestamp, for a new catalogue item.
GROUP_OF_VENUE = "SELECT v.group_id, now() AS now FROM venues v WHERE v.id = %(venue)s"

CATALOGUE_COLUMNS = "i.id, i.group_id, i.name, i.description, i.category, i.allergens, i.active"

# The item locked for its change (row-level security: the bound venue's group only, and
# only an owner's lock reaches it: the update policy applies to FOR UPDATE).
ITEM_FOR_CHANGE = f"""
SELECT {CATALOGUE_COLUMNS}, now() AS now
FROM menu_items i WHERE i.id = %(item)s FOR UPDATE
"""

INSERT_ITEM = """
INSERT INTO menu_items (id, group_id, name, description, category, allergens, active, updated_at)
VALUES (%(id)s, %(group)s, %(name)s, %(description)s, %(category)s, %(allergens)s, %(active)s,
        now())
"""

UPDATE_ITEM = """
UPDATE menu_items
SET name = %(name)s, description = %(description)s, category = %(category)s,
    allergens = %(allergens)s, active = %(active)s, updated_at = now()
WHERE id = %(id)s
"""

# The item as this venue sees it, and its current availability here, locked.
ITEM_FOR_AVAILABILITY = """
SELECT i.id, i.group_id, now() AS now,
       (SELECT a.available FROM menu_item_availability a
        WHERE a.venue_id = %(venue)s AND a.item_id = i.id FOR UPDATE) AS previous
FROM menu_items i WHERE i.id = %(item)s
"""

WRITE_AVAILABILITY = """
INSERT INTO menu_item_availability (venue_id, group_id, item_id, available)
VALUES (%(venue)s, %(group)s, %(item)s, %(available)s)
ON CONFLICT (venue_id, item_id)
DO UPDATE SET available = EXCLUDED.available, updated_at = now()
"""


def venue_menu_json(conn: psycopg.Connection, venue_id: uuid.UUID) -> JsonDocument:
    row = conn.execute(VENUE_MENU, {"venue": venue_id}).fetchone()
    assert row is not None  # the gate has let the caller in: the venue exists
    return JsonDocument(row[0])


def send_group_of_venue(conn: psycopg.Connection, venue_id: uuid.UUID) -> psycopg.Cursor[Any]:
    """Queued, not read: the caller reads it once the gate has decided."""
    return conn.cursor(row_factory=dict_row).execute(GROUP_OF_VENUE, {"venue": venue_id})


def send_item_for_change(conn: psycopg.Connection, item_id: uuid.UUID) -> psycopg.Cursor[Any]:
    return conn.cursor(row_factory=dict_row).execute(ITEM_FOR_CHANGE, {"item": item_id})


def insert_item(conn: psycopg.Connection, values: dict[str, Any]) -> None:
    conn.execute(INSERT_ITEM, values)


def update_item(conn: psycopg.Connection, values: dict[str, Any]) -> None:
    conn.execute(UPDATE_ITEM, values)


def item_for_availability(
    conn: psycopg.Connection, venue_id: uuid.UUID, item_id: uuid.UUID
) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(ITEM_FOR_AVAILABILITY, {"venue": venue_id, "item": item_id})
        .fetchone()
    )


def write_availability(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    group_id: uuid.UUID,
    item_id: uuid.UUID,
    available: bool,
) -> None:
    conn.execute(
        WRITE_AVAILABILITY,
        {"venue": venue_id, "group": group_id, "item": item_id, "available": available},
    )
