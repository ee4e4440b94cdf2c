"""What every way an order is made must agree on: its number (the venue's gapless counter)
and its prices (the venue's own menu). A till's order (the orders area) and a paid online
order (the webhook processor, priced at checkout by the payments area) use these, so the
three cannot drift apart."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import psycopg

from tenancy.problems import Problem

__all__ = ["PRICED_ITEMS", "lock_counter", "require_on_menu"]

# The venue's counter row (a venue made after migration 0012 gets its row here), then locked:
# concurrent creations at one venue queue on it until the holder commits or rolls back. The
# last number is never below the venue's highest (orders written around the counter: demo
# and benchmark data).
ENSURE_COUNTER = """
INSERT INTO order_counters (venue_id, last_number) VALUES (%(venue)s, 0)
ON CONFLICT (venue_id) DO NOTHING
"""
LOCK_COUNTER = """
SELECT greatest(c.last_number,
                coalesce((SELECT max(o.number) FROM orders o WHERE o.venue_id = c.venue_id), 0))
FROM order_counters c WHERE c.venue_id = %(venue)s FOR UPDATE OF c
"""

#: A select-list expression: the requested items (``%(items)s``) as the bound venue
#: (``%(venue)s``) prices them, ``{item id: {name, price_cents}}``, leaving out items that
#: are inactive, unavailable here or without a price here (row-level security: the venue's
#: group's catalogue and this venue's prices only). Placed into a query by an f-string.
PRICED_ITEMS = """coalesce(
           (SELECT json_object_agg(i.id, json_build_object('name', i.name,
                                                           'price_cents', p.price_cents))
            FROM menu_items i
            JOIN menu_item_prices p ON p.venue_id = %(venue)s AND p.item_id = i.id
            LEFT JOIN menu_item_availability a ON a.venue_id = %(venue)s AND a.item_id = i.id
            WHERE i.id = ANY(%(items)s::uuid[]) AND i.active AND coalesce(a.available, true)),
           '{}'::json)"""


def lock_counter(conn: psycopg.Connection[Any], venue_id: uuid.UUID) -> psycopg.Cursor[Any]:
    """Queued, not awaited: the counter row made if missing, then locked; the cursor's one
    row is the last number given."""
    conn.execute(ENSURE_COUNTER, {"venue": venue_id})
    return conn.execute(LOCK_COUNTER, {"venue": venue_id})


def require_on_menu(item_ids: Sequence[uuid.UUID], priced: Mapping[str, Any]) -> None:
    """Refuses the order when any requested item has no price on this venue's menu."""
    missing = [str(item) for item in item_ids if str(item) not in priced]
    if missing:
        raise Problem(
            422,
            "item-not-on-menu",
            "these items are not on this venue's menu (no price here, unavailable, or not"
            " in its catalogue)",
            item_ids=missing,
        )
