"""SQL of the menus area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

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
