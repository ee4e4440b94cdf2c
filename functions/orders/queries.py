"""SQL of the orders area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument
from tenancy.order_book import PRICED_ITEMS

# Postgres builds the whole page as one JSON document: pydantic validates it in one pass
# instead of Python decoding a JSON column per order. Newest first by number (numbers are
# allocated in creation order), keyset-paged with ``before``: one more row than the page is
# read to know whether another page follows.
ORDER_QUEUE = """
WITH page AS (
    SELECT o.id, o.number, o.status, o.channel, o.table_label, o.total_cents, o.created_at
    FROM orders o
    WHERE o.venue_id = %(venue)s AND (%(status)s::text IS NULL OR o.status = %(status)s)
      AND (%(before)s::integer IS NULL OR o.number < %(before)s)
    ORDER BY o.number DESC
    LIMIT %(limit)s + 1
), shown AS (
    SELECT * FROM page ORDER BY number DESC LIMIT %(limit)s
)
SELECT json_build_object(
    'orders', coalesce(
        (SELECT json_agg(json_build_object(
                    'id', q.id, 'number', q.number, 'status', q.status, 'channel', q.channel,
                    'table_label', q.table_label, 'total_cents', q.total_cents,
                    'created_at', q.created_at,
                    'items', coalesce(
                        (SELECT json_agg(json_build_object(
                                    'name', i.name, 'quantity', i.quantity,
                                    'unit_price_cents', i.unit_price_cents) ORDER BY i.name)
                         FROM order_items i WHERE i.order_id = q.id AND i.venue_id = %(venue)s),
                        '[]'::json)) ORDER BY q.number DESC)
         FROM shown q),
        '[]'::json),
    'next_before', CASE WHEN (SELECT count(*) FROM page) > %(limit)s
                        THEN (SELECT min(number) FROM shown) END)::text
"""


def order_queue_json(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    status: str | None,
    limit: int,
    before: int | None = None,
) -> JsonDocument:
    """The queue as a JSON document shaped like ``OrderQueue``."""
    params = {"venue": venue_id, "status": status, "limit": limit, "before": before}
    row = conn.execute(ORDER_QUEUE, params).fetchone()
    assert row is not None
    return JsonDocument(row[0])


# One order as a JSON document shaped like ``OrderDetail`` (NULL: no such order here).
ORDER_DETAIL = """
SELECT json_build_object(
    'id', o.id, 'number', o.number, 'status', o.status, 'channel', o.channel,
    'table_label', o.table_label, 'total_cents', o.total_cents, 'created_at', o.created_at,
    'updated_at', o.updated_at, 'shift_id', o.shift_id, 'staff_member_id', o.staff_member_id,
    'cancel_reason', o.cancel_reason,
    'items', coalesce(
        (SELECT json_agg(json_build_object(
                    'item_id', i.item_id, 'name', i.name, 'quantity', i.quantity,
                    'unit_price_cents', i.unit_price_cents) ORDER BY i.name, i.id)
         FROM order_items i WHERE i.order_id = o.id AND i.venue_id = o.venue_id),
        '[]'::json))::text
FROM orders o
WHERE o.venue_id = %(venue)s AND {where}
"""


def order_detail_json(
    conn: psycopg.Connection, venue_id: uuid.UUID, order_id: uuid.UUID
) -> JsonDocument | None:
    row = conn.execute(
        ORDER_DETAIL.format(where="o.id = %(order)s"), {"venue": venue_id, "order": order_id}
    ).fetchone()
    return None if row is None else JsonDocument(row[0])


# --- creating an order --------------------------------------------------------------------

# Read after the lock, so it sees what the previous holder committed: an order already made
# with this key (its detail), the venue's open shift, the staff member taking the order, the
# transaction's timestamp and the requested items as this venue prices them (row-level
# security: the bound venue's group's catalogue and this venue's prices only).
ORDER_CONTEXT = f"""
SELECT ({ORDER_DETAIL.format(where="o.idempotency_key = %(key)s")}) AS replay,
       (SELECT s.id FROM shifts s WHERE s.venue_id = %(venue)s AND s.closed_at IS NULL)
           AS shift_id,
       coalesce(%(staff)s::uuid,
                (SELECT m.id FROM staff_members m
                 WHERE m.venue_id = %(venue)s AND m.user_id = %(user)s)) AS staff_member_id,
       now() AS now,
       {PRICED_ITEMS} AS priced
"""

WRITE_ORDER = """
WITH counter AS (
    UPDATE order_counters SET last_number = %(number)s WHERE venue_id = %(venue)s
), placed AS (
    INSERT INTO orders (id, venue_id, number, status, channel, table_label, staff_member_id,
                        total_cents, created_at, updated_at, shift_id, idempotency_key)
    VALUES (%(id)s, %(venue)s, %(number)s, 'placed', 'till', %(table)s, %(staff)s, %(total)s,
            now(), now(), %(shift)s, %(key)s)
)
INSERT INTO order_items (order_id, venue_id, item_id, name, quantity, unit_price_cents)
SELECT %(id)s, %(venue)s, line.item_id, line.name, line.quantity, line.price
FROM unnest(%(item_ids)s::uuid[], %(names)s::text[], %(quantities)s::integer[],
            %(prices)s::integer[]) AS line(item_id, name, quantity, price)
"""


def order_context(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    *,
    key: str | None,
    staff_member_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
    item_ids: list[uuid.UUID],
) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        ORDER_CONTEXT,
        {
            "venue": venue_id,
            "key": key,
            "staff": staff_member_id,
            "user": user_id,
            "items": item_ids,
        },
    )


def write_order(conn: psycopg.Connection, **params: Any) -> None:
    conn.execute(WRITE_ORDER, params)


# --- moving an order ----------------------------------------------------------------------

# Locked: a concurrent transition of the same order waits, then reads the status it left.
ORDER_FOR_TRANSITION = """
SELECT o.id, o.number, o.status, o.total_cents, now() AS now
FROM orders o WHERE o.id = %(order)s AND o.venue_id = %(venue)s FOR UPDATE
"""

# Conditional as well: it moves the order only from the status the decision was made on.
MOVE_ORDER = """
UPDATE orders SET status = %(to)s, cancel_reason = %(reason)s, updated_at = now()
WHERE id = %(order)s AND venue_id = %(venue)s AND status = %(from)s
"""


def order_for_transition(
    conn: psycopg.Connection, venue_id: uuid.UUID, order_id: uuid.UUID
) -> psycopg.Cursor[dict[str, Any]]:
    """Queued, not awaited."""
    return conn.cursor(row_factory=dict_row).execute(
        ORDER_FOR_TRANSITION, {"venue": venue_id, "order": order_id}
    )


def move_order(conn: psycopg.Connection, **params: Any) -> None:
    conn.execute(MOVE_ORDER, params)
