"""SQL of the stock area."""

import datetime as dt
import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument

# The venue's today (its time zone) and the item as this venue sees it (its group only),
# with the day's count so far, locked.
ITEM_AND_TODAY = """
WITH venue AS (
    SELECT v.id, (now() AT TIME ZONE v.timezone)::date AS today FROM venues v
    WHERE v.id = %(venue)s
)
SELECT i.id, i.group_id, i.name, venue.today, now() AS now,
       coalesce(%(day)s::date, venue.today) AS day,
       (SELECT c.quantity FROM stock_counts c
        WHERE c.venue_id = venue.id AND c.item_id = i.id
          AND c.count_date = coalesce(%(day)s::date, venue.today) FOR UPDATE) AS previous
FROM menu_items i CROSS JOIN venue
WHERE i.id = %(item)s
"""

WRITE = """
INSERT INTO stock_counts (venue_id, group_id, item_id, count_date, quantity, counted_by)
VALUES (%(venue)s, %(group)s, %(item)s, %(day)s, %(quantity)s, %(user)s)
ON CONFLICT (venue_id, count_date, item_id)
DO UPDATE SET quantity = EXCLUDED.quantity, counted_by = EXCLUDED.counted_by, counted_at = now()
"""

# The day's counts as one JSON document shaped like ``StockCounts``.
COUNTS = """
WITH day AS (
    SELECT coalesce(%(day)s::date, (now() AT TIME ZONE v.timezone)::date) AS day
    FROM venues v WHERE v.id = %(venue)s
)
SELECT json_build_object(
    'day', day.day,
    'counts', coalesce(
        (SELECT json_agg(json_build_object(
                    'item_id', c.item_id, 'name', i.name, 'day', c.count_date,
                    'quantity', c.quantity, 'counted_by', c.counted_by,
                    'counted_at', c.counted_at) ORDER BY i.name, c.item_id)
         FROM stock_counts c JOIN menu_items i ON i.id = c.item_id
         WHERE c.venue_id = %(venue)s AND c.count_date = day.day),
        '[]'::json))::text
FROM day
"""


def item_and_today(
    conn: psycopg.Connection, venue_id: uuid.UUID, item_id: uuid.UUID, day: dt.date | None
) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(ITEM_AND_TODAY, {"venue": venue_id, "item": item_id, "day": day})
        .fetchone()
    )


def write(conn: psycopg.Connection, values: dict[str, Any]) -> None:
    conn.execute(WRITE, values)


def counts_json(conn: psycopg.Connection, venue_id: uuid.UUID, day: dt.date | None) -> JsonDocument:
    row = conn.execute(COUNTS, {"venue": venue_id, "day": day}).fetchone()
    assert row is not None
    return JsonDocument(row[0])
