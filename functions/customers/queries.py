"""SQL of the customers area. Row-level security holds every statement to the bound venue;
visits at the group's other venues show only under the diner's consent recorded here."""

import datetime as dt
import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

# Serialises creating the same diner at this venue: the lookup after it sees a concurrent
# creation that committed meanwhile.
LOCK_IDENTITY = "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))"

FIND = """
SELECT v.group_id, now() AS now, d.id, d.display_name, d.created_at
FROM venues v
LEFT JOIN diners d ON d.venue_id = v.id AND d.identity = %(identity)s
WHERE v.id = %(venue)s
"""

CREATE = """
INSERT INTO diners (id, venue_id, group_id, identity, display_name, created_at, updated_at)
VALUES (%(id)s, %(venue)s, %(group)s, %(identity)s, %(name)s, %(now)s, %(now)s)
"""

DETAIL = """
SELECT d.id, d.display_name, d.created_at, d.updated_at, d.sensitive_sealed,
       EXISTS (SELECT 1 FROM diner_consents c
               WHERE c.venue_id = d.venue_id AND c.diner_id = d.id AND c.withdrawn_at IS NULL)
           AS consent_active
FROM diners d
WHERE d.id = %(diner)s AND d.venue_id = %(venue)s
"""

# The diner locked, so the audit event's "before" is exact.
FOR_CHANGE = """
SELECT d.id, d.group_id, d.identity, d.display_name, d.sensitive_sealed, now() AS now,
       v.name AS venue_name, c.id AS consent_id, c.granted_at
FROM diners d
JOIN venues v ON v.id = d.venue_id
LEFT JOIN diner_consents c
       ON c.venue_id = d.venue_id AND c.diner_id = d.id AND c.withdrawn_at IS NULL
WHERE d.id = %(diner)s AND d.venue_id = %(venue)s
FOR UPDATE OF d
"""

WRITE_SENSITIVE = """
UPDATE diners SET sensitive_sealed = %(sealed)s, updated_at = now()
WHERE id = %(diner)s AND venue_id = %(venue)s
"""

ADD_VISIT = """
INSERT INTO diner_visits (id, venue_id, group_id, diner_id, identity, visited_at, party_size)
VALUES (%(id)s, %(venue)s, %(group)s, %(diner)s, %(identity)s, %(at)s, %(size)s)
"""

GRANT_CONSENT = """
INSERT INTO diner_consents (id, venue_id, group_id, diner_id, identity, granted_at, granted_by)
VALUES (%(id)s, %(venue)s, %(group)s, %(diner)s, %(identity)s, %(now)s, %(user)s)
"""

WITHDRAW_CONSENT = """
UPDATE diner_consents SET withdrawn_at = %(now)s, withdrawn_by = %(user)s
WHERE id = %(consent)s AND venue_id = %(venue)s
"""

# Every visit of the same person this statement may see: this venue's, and the group's
# other venues' when the diner's consent recorded here is active (diner_visits_read).
HISTORY = """
SELECT d.id,
       EXISTS (SELECT 1 FROM diner_consents c
               WHERE c.venue_id = d.venue_id AND c.diner_id = d.id AND c.withdrawn_at IS NULL)
           AS consent_active,
       coalesce((SELECT json_agg(json_build_object(
                    'id', x.id, 'venue_id', x.venue_id, 'venue_name', v.name,
                    'visited_at', x.visited_at, 'party_size', x.party_size,
                    'here', x.venue_id = d.venue_id) ORDER BY x.visited_at DESC, x.id)
                 FROM (SELECT * FROM diner_visits x
                       WHERE x.group_id = d.group_id AND x.identity = d.identity
                       ORDER BY x.visited_at DESC LIMIT 200) x
                 JOIN venues v ON v.id = x.venue_id), '[]'::json) AS visits
FROM diners d
WHERE d.id = %(diner)s AND d.venue_id = %(venue)s
"""


def _one(conn: psycopg.Connection, query: str, params: dict[str, Any]) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(query, params).fetchone()


def find(conn: psycopg.Connection, venue_id: uuid.UUID, identity: bytes) -> dict[str, Any] | None:
    conn.execute(LOCK_IDENTITY, {"key": f"diner:{venue_id}:{identity.hex()}"})
    return _one(conn, FIND, {"venue": venue_id, "identity": identity})


def create(
    conn: psycopg.Connection,
    *,
    diner_id: uuid.UUID,
    venue_id: uuid.UUID,
    group_id: uuid.UUID,
    identity: bytes,
    display_name: str,
    now: dt.datetime,
) -> None:
    conn.execute(
        CREATE,
        {
            "id": diner_id,
            "venue": venue_id,
            "group": group_id,
            "identity": identity,
            "name": display_name,
            "now": now,
        },
    )


def detail(
    conn: psycopg.Connection, venue_id: uuid.UUID, diner_id: uuid.UUID
) -> dict[str, Any] | None:
    return _one(conn, DETAIL, {"venue": venue_id, "diner": diner_id})


def for_change(
    conn: psycopg.Connection, venue_id: uuid.UUID, diner_id: uuid.UUID
) -> dict[str, Any] | None:
    return _one(conn, FOR_CHANGE, {"venue": venue_id, "diner": diner_id})


def write_sensitive(
    conn: psycopg.Connection, venue_id: uuid.UUID, diner_id: uuid.UUID, sealed: str
) -> None:
    conn.execute(WRITE_SENSITIVE, {"venue": venue_id, "diner": diner_id, "sealed": sealed})


def add_visit(conn: psycopg.Connection, **params: Any) -> None:
    conn.execute(ADD_VISIT, params)


def grant_consent(conn: psycopg.Connection, **params: Any) -> None:
    conn.execute(GRANT_CONSENT, params)


def withdraw_consent(conn: psycopg.Connection, **params: Any) -> None:
    conn.execute(WITHDRAW_CONSENT, params)


def history(
    conn: psycopg.Connection, venue_id: uuid.UUID, diner_id: uuid.UUID
) -> dict[str, Any] | None:
    return _one(conn, HISTORY, {"venue": venue_id, "diner": diner_id})
