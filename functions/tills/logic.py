"""A venue's tills: registering one, setting a staff member's PIN, locking a till session.

Also what the demo seed uses (infra/local/seed.py), so the demo's tills and PINs are made
exactly as a manager makes them."""

from __future__ import annotations

import hashlib
import secrets
import uuid

import psycopg

from tenancy import Problem, not_found
from tenancy.audit import record
from tenancy.pins import PinPepper
from tills import queries
from tills.models import PinSet, RegisteredTill


def new_client_id() -> str:
    return f"till-{secrets.token_hex(8)}"


def register_till(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    name: str,
    actor_user_id: uuid.UUID | None,
    client_id: str | None = None,
    client_secret: str | None = None,
) -> RegisteredTill:
    """A till client serving ``venue_id``; its secret is returned here and stored as its
    SHA-256 (a 256-bit random secret needs no slow hash). Nothing is read back: the inserts
    and the audit event travel with the COMMIT."""
    client_id = client_id or new_client_id()
    client_secret = client_secret or secrets.token_urlsafe(32)
    queries.insert_till_client(
        conn, client_id, name, hashlib.sha256(client_secret.encode()).hexdigest()
    )
    queries.bind_till_to_venue(conn, client_id, venue_id)
    record(
        conn,
        action="till.registered",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="till",
        target_id=client_id,
        details={"name": name},
    )
    return RegisteredTill(
        client_id=client_id, client_secret=client_secret, name=name, venue_id=venue_id
    )


def set_pin(
    conn: psycopg.Connection,
    pepper: PinPepper,
    *,
    venue_id: uuid.UUID,
    staff_id: uuid.UUID,
    pin: str,
    actor_user_id: uuid.UUID | None,
) -> PinSet:
    """Set or reset the PIN of a member of the venue's staff. It must be no one else's at
    the venue; a reset ends the person's open till sessions. Two round trips: the gate, the
    venue's PIN lock and the check; then the write, the audit event and the COMMIT."""
    digests = pepper.digests(venue_id, pin)
    queries.lock_venue_pins(conn, venue_id)
    row = queries.pin_target(conn, venue_id, staff_id, digests)
    if row is None:
        raise not_found("staff member")
    if row["taken"]:
        # Whoever may set PINs could reset this person's anyway: telling them it is taken
        # gives them nothing they could not take.
        raise Problem(
            409,
            "pin-taken",
            "another member of this venue's staff has that PIN: choose another",
        )
    queries.write_pin(conn, venue_id, staff_id, digests[0], actor_user_id)
    if row["had_pin"]:
        queries.end_staff_till_sessions(conn, venue_id, staff_id)
    record(
        conn,
        action="staff.pin_set",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="staff_member",
        target_id=staff_id,
        details={"replaced": row["had_pin"], "key_id": digests[0].key_id},
    )
    return PinSet(staff_member_id=staff_id, pin_set_at=row["now"], replaced=row["had_pin"])


def lock(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    session_id: uuid.UUID,
    staff_member_id: uuid.UUID,
    client_id: str,
    actor_user_id: uuid.UUID | None,
) -> None:
    """End the calling till session: the till needs a PIN again. The event is written
    first: once the session has ended, its binding opens nothing, the outbox included."""
    record(
        conn,
        action="till.session_locked",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="till_session",
        target_id=session_id,
        details={"client_id": client_id, "staff_member_id": str(staff_member_id)},
    )
    queries.end_till_session(conn, session_id)
