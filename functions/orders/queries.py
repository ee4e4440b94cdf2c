"""SQL of the orders area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

ORDER_QUEUE = """
SELECT o.id, o.number, o.status, o.channel, o.table_label, o.total_cents, o.created_at,
       COALESCE(
           (SELECT json_agg(json_build_object(
                       'name', i.name, 'quantity', i.quantity,
                       'unit_price_cents', i.unit_price_cents) ORDER BY i.name)
            FROM order_items i WHERE i.order_id = o.id),
           '[]'::json) AS items
FROM orders o
WHERE o.venue_id = %(venue)s AND (%(status)s::text IS NULL OR o.status = %(status)s)
ORDER BY o.created_at DESC, o.number DESC
LIMIT %(limit)s
"""


def order_queue(
    conn: psycopg.Connection, venue_id: uuid.UUID, status: str | None, limit: int
) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(ORDER_QUEUE, {"venue": venue_id, "status": status, "limit": limit})
        .fetchall()
    )
