"""SQL of the shifts area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument

SHIFT_COLUMNS = (
    "s.id, CASE WHEN s.closed_at IS NULL THEN 'open' ELSE 'closed' END AS status,"
    " s.opened_at, s.opened_by, s.closed_at, s.closed_by, s.reopened_at, s.reopened_by,"
    " s.reopen_count"
)

# Opening and reopening take the venue's shift lock first, so two of them never race past
# "no shift is open" (the partial unique index would refuse the second anyway).
LOCK_VENUE_SHIFTS = "SELECT pg_advisory_xact_lock(hashtextextended('shifts:' || %(venue)s, 0))"

OPEN_SHIFT_NOW = """
SELECT (SELECT s.id FROM shifts s WHERE s.venue_id = %(venue)s AND s.closed_at IS NULL)
           AS open_shift_id,
       now() AS now
"""

INSERT_SHIFT = """
INSERT INTO shifts (id, venue_id, opened_by) VALUES (%(id)s, %(venue)s, %(user)s)
"""

SHIFT_FOR_UPDATE = f"""
SELECT {SHIFT_COLUMNS}, now() AS now,
       (SELECT o.id FROM shifts o
        WHERE o.venue_id = %(venue)s AND o.closed_at IS NULL AND o.id <> s.id) AS other_open_id
FROM shifts s WHERE s.id = %(shift)s FOR UPDATE OF s
"""

CLOSE_SHIFT = """
UPDATE shifts SET closed_at = now(), closed_by = %(user)s WHERE id = %(shift)s
"""

REOPEN_SHIFT = """
UPDATE shifts
SET closed_at = NULL, closed_by = NULL, reopened_at = now(), reopened_by = %(user)s,
    reopen_count = reopen_count + 1
WHERE id = %(shift)s
"""

SHIFT_LIST = f"""
SELECT json_build_object('shifts',
                         coalesce(json_agg(q ORDER BY q.opened_at DESC, q.id), '[]'))::text
FROM (
    SELECT {SHIFT_COLUMNS}
    FROM shifts s WHERE s.venue_id = %(venue)s
    ORDER BY s.opened_at DESC, s.id LIMIT %(limit)s
) q
"""


def open_shift_now(conn: psycopg.Connection, venue_id: uuid.UUID) -> dict[str, Any]:
    params = {"venue": str(venue_id)}
    conn.execute(LOCK_VENUE_SHIFTS, params)
    row = conn.cursor(row_factory=dict_row).execute(OPEN_SHIFT_NOW, params).fetchone()
    assert row is not None
    return row


def insert_shift(
    conn: psycopg.Connection, shift_id: uuid.UUID, venue_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    conn.execute(INSERT_SHIFT, {"id": shift_id, "venue": venue_id, "user": user_id})


def shift_for_update(
    conn: psycopg.Connection, venue_id: uuid.UUID, shift_id: uuid.UUID, *, lock_venue: bool
) -> dict[str, Any] | None:
    params = {"venue": str(venue_id), "shift": shift_id}
    if lock_venue:
        conn.execute(LOCK_VENUE_SHIFTS, params)
    return conn.cursor(row_factory=dict_row).execute(SHIFT_FOR_UPDATE, params).fetchone()


def close_shift(conn: psycopg.Connection, shift_id: uuid.UUID, user_id: uuid.UUID) -> None:
    conn.execute(CLOSE_SHIFT, {"shift": shift_id, "user": user_id})


def reopen_shift(conn: psycopg.Connection, shift_id: uuid.UUID, user_id: uuid.UUID) -> None:
    conn.execute(REOPEN_SHIFT, {"shift": shift_id, "user": user_id})


def shift_list_json(conn: psycopg.Connection, venue_id: uuid.UUID, limit: int) -> JsonDocument:
    row = conn.execute(SHIFT_LIST, {"venue": venue_id, "limit": limit}).fetchone()
    assert row is not None
    return JsonDocument(row[0])
