"""SQL of the orders area."""

import uuid

import psycopg

from tenancy import JsonDocument

# Postgres builds the whole queue as one JSON document: pydantic validates it in one pass
# instead of Python decoding a JSON column per order.
ORDER_QUEUE = """
SELECT json_build_object('orders', coalesce(json_agg(q ORDER BY q.created_at DESC, q.number DESC),
                                            '[]'::json))::text
FROM (
    SELECT o.id, o.number, o.status, o.channel, o.table_label, o.total_cents, o.created_at,
           coalesce(
               (SELECT json_agg(json_build_object(
                           'name', i.name, 'quantity', i.quantity,
                           'unit_price_cents', i.unit_price_cents) ORDER BY i.name)
                FROM order_items i WHERE i.order_id = o.id),
               '[]'::json) AS items
    FROM orders o
    WHERE o.venue_id = %(venue)s AND (%(status)s::text IS NULL OR o.status = %(status)s)
    ORDER BY o.created_at DESC, o.number DESC
    LIMIT %(limit)s
) q
"""


def order_queue_json(
    conn: psycopg.Connection, venue_id: uuid.UUID, status: str | None, limit: int
) -> JsonDocument:
    """The queue as a JSON document shaped like ``OrderQueue``."""
    params = {"venue": venue_id, "status": status, "limit": limit}
    row = conn.execute(ORDER_QUEUE, params).fetchone()
    assert row is not None
    return JsonDocument(row[0])
