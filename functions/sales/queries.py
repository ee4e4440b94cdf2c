"""SQL of the sales area."""

import datetime as dt
import uuid

import psycopg

from tenancy import JsonDocument

# One statement, one JSON document shaped like ``SalesSummary``. The range is turned into
# instants once, in the venue's time zone, so the orders are found through
# orders_sales (venue_id, created_at) and their lines through order_items_sales.
SUMMARY = """
WITH venue AS (
    SELECT v.timezone, trim(v.currency) AS currency,
           coalesce(%(to)s::date, (now() AT TIME ZONE v.timezone)::date) AS last_day
    FROM venues v WHERE v.id = %(venue)s
), range AS (
    SELECT venue.*, coalesce(%(from)s::date, venue.last_day - 6) AS first_day,
           (coalesce(%(from)s::date, venue.last_day - 6)::timestamp
               AT TIME ZONE venue.timezone) AS starts,
           ((venue.last_day + 1)::timestamp AT TIME ZONE venue.timezone) AS ends
    FROM venue
), sold AS MATERIALIZED (
    SELECT o.id, o.total_cents, o.staff_member_id,
           (o.created_at AT TIME ZONE range.timezone)::date AS day
    FROM orders o, range
    WHERE o.venue_id = %(venue)s
      AND o.created_at >= range.starts AND o.created_at < range.ends
      AND o.status <> 'cancelled'
), by_day AS (
    SELECT day, count(*) AS orders, sum(total_cents) AS total_cents FROM sold GROUP BY day
), by_item AS (
    SELECT i.item_id, i.name, sum(i.quantity) AS quantity,
           sum(i.quantity::bigint * i.unit_price_cents) AS total_cents
    FROM sold JOIN order_items i ON i.order_id = sold.id
    WHERE i.venue_id = %(venue)s
    GROUP BY i.item_id, i.name
), by_staff AS (
    SELECT sold.staff_member_id, count(*) AS orders, sum(sold.total_cents) AS total_cents
    FROM sold GROUP BY sold.staff_member_id
)
SELECT json_build_object(
    'from', range.first_day,
    'to', range.last_day,
    'timezone', range.timezone,
    'currency', range.currency,
    'total', json_build_object(
        'orders', (SELECT count(*) FROM sold),
        'total_cents', (SELECT coalesce(sum(total_cents), 0) FROM sold)),
    'by_day', coalesce((SELECT json_agg(d ORDER BY d.day) FROM by_day d), '[]'),
    'by_item', coalesce((SELECT json_agg(json_build_object(
                             'item_id', b.item_id, 'name', b.name, 'quantity', b.quantity,
                             'total_cents', b.total_cents)
                         ORDER BY b.total_cents DESC, b.name) FROM by_item b), '[]'),
    'by_staff', coalesce((SELECT json_agg(json_build_object(
                              'staff_member_id', b.staff_member_id,
                              'display_name', m.display_name,
                              'orders', b.orders, 'total_cents', b.total_cents)
                          ORDER BY b.total_cents DESC, m.display_name)
                          FROM by_staff b
                          LEFT JOIN staff_members m ON m.id = b.staff_member_id), '[]'))::text
FROM range
"""


def summary_json(
    conn: psycopg.Connection, venue_id: uuid.UUID, first: dt.date | None, last: dt.date | None
) -> JsonDocument:
    row = conn.execute(SUMMARY, {"venue": venue_id, "from": first, "to": last}).fetchone()
    assert row is not None
    return JsonDocument(row[0])
