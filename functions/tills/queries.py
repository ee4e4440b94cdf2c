"""SQL of the tills area: registering a till, staff PINs, locking a till session."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy.pins import PinDigest

# --- registering a till -----------------------------------------------------------------------


def insert_till_client(
    conn: psycopg.Connection, client_id: str, name: str, secret_sha256: str
) -> None:
    conn.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, secret_hash)"
        " VALUES (%s, %s, 'till', %s)",
        (client_id, name, secret_sha256),
    )


def bind_till_to_venue(conn: psycopg.Connection, client_id: str, venue_id: uuid.UUID) -> None:
    conn.execute(
        "INSERT INTO till_device_venues (client_id, venue_id) VALUES (%s, %s)",
        (client_id, venue_id),
    )


# --- staff PINs ---------------------------------------------------------------------------------


def lock_venue_pins(conn: psycopg.Connection, venue_id: uuid.UUID) -> None:
    """Serialise PIN changes at one venue until this transaction ends, so two people cannot
    be given the same PIN at once. Its answer is not awaited."""
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (f"staff-pins:{venue_id}",)
    )


# The staff member (locked, so they cannot be removed meanwhile), whether they had a PIN,
# whether anyone else at the venue has this one (under any pepper key), and the
# transaction's time, which the write stamps.
PIN_TARGET = """
SELECT m.id,
       now() AS now,
       EXISTS (SELECT 1 FROM staff_pins p WHERE p.staff_member_id = m.id) AS had_pin,
       EXISTS (SELECT 1 FROM staff_pins p
               WHERE p.venue_id = m.venue_id AND p.staff_member_id <> m.id
                 AND (p.key_id, p.pin_hmac) IN
                     (SELECT * FROM unnest(%(keys)s::text[], %(digests)s::bytea[]))) AS taken
FROM staff_members m
WHERE m.id = %(staff)s AND m.venue_id = %(venue)s
FOR UPDATE OF m
"""


def pin_target(
    conn: psycopg.Connection, venue_id: uuid.UUID, staff_id: uuid.UUID, digests: list[PinDigest]
) -> dict[str, Any] | None:
    """None when the staff member is not at this venue (row-level security: or not one the
    caller may manage)."""
    params = {
        "venue": venue_id,
        "staff": staff_id,
        "keys": [d.key_id for d in digests],
        "digests": [d.digest for d in digests],
    }
    return conn.cursor(row_factory=dict_row).execute(PIN_TARGET, params).fetchone()


WRITE_PIN = """
INSERT INTO staff_pins (staff_member_id, venue_id, key_id, pin_hmac, set_at, set_by)
VALUES (%(staff)s, %(venue)s, %(key)s, %(digest)s, now(), %(actor)s)
ON CONFLICT (staff_member_id) DO UPDATE
SET key_id = EXCLUDED.key_id, pin_hmac = EXCLUDED.pin_hmac, set_at = EXCLUDED.set_at,
    set_by = EXCLUDED.set_by
"""


def write_pin(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    staff_id: uuid.UUID,
    digest: PinDigest,
    actor_user_id: uuid.UUID | None,
) -> None:
    conn.execute(
        WRITE_PIN,
        {
            "staff": staff_id,
            "venue": venue_id,
            "key": digest.key_id,
            "digest": digest.digest,
            "actor": actor_user_id,
        },
    )


def end_staff_till_sessions(
    conn: psycopg.Connection, venue_id: uuid.UUID, staff_id: uuid.UUID
) -> None:
    conn.execute(
        "UPDATE till_sessions SET ended_at = now()"
        " WHERE venue_id = %s AND staff_member_id = %s AND ended_at IS NULL",
        (venue_id, staff_id),
    )


# --- locking a till -----------------------------------------------------------------------------


def end_till_session(conn: psycopg.Connection, session_id: uuid.UUID) -> None:
    """Row-level security lets a till session end its own row only."""
    conn.execute(
        "UPDATE till_sessions SET ended_at = now() WHERE id = %s AND ended_at IS NULL",
        (session_id,),
    )
