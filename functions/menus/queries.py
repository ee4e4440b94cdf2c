"""SQL of the menus area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

# Locks this venue's current price (if any) so the audit event's "previous" is exact.
PREVIOUS_PRICE = """
SELECT price_cents FROM menu_item_prices WHERE venue_id = %(venue)s AND item_id = %(item)s
FOR UPDATE
"""

# The catalogue item is looked up through row-level security (the venue's group only);
# the price row is written for the bound venue only.
SET_PRICE = """
WITH item AS (
    SELECT id, group_id, name, description FROM menu_items WHERE id = %(item)s
), written AS (
    INSERT INTO menu_item_prices (venue_id, group_id, item_id, price_cents)
    SELECT %(venue)s, item.group_id, item.id, %(price)s FROM item
    ON CONFLICT (venue_id, item_id)
    DO UPDATE SET price_cents = EXCLUDED.price_cents, updated_at = now()
    RETURNING item_id, price_cents, updated_at
)
SELECT item.id, item.name, item.description, written.price_cents,
       written.updated_at AS price_updated_at, v.currency
FROM written
JOIN item ON item.id = written.item_id
JOIN venues v ON v.id = %(venue)s
"""


def set_price(
    conn: psycopg.Connection, venue_id: uuid.UUID, item_id: uuid.UUID, price_cents: int
) -> dict[str, Any] | None:
    """The item at this venue with its new price and ``previous_price_cents``; None when the
    item is not in this venue's catalogue."""
    params = {"venue": venue_id, "item": item_id, "price": price_cents}
    previous = conn.execute(PREVIOUS_PRICE, params).fetchone()
    row = conn.cursor(row_factory=dict_row).execute(SET_PRICE, params).fetchone()
    if row is not None:
        row["previous_price_cents"] = previous[0] if previous else None
    return row
