"""audit_log is append-only at the database level, whatever the runtime role tries."""

from __future__ import annotations

import hashlib
import json
import uuid

import psycopg
import pytest

from infra.local.seed import CENTRALE


@pytest.fixture
def logged_event(admin_db: psycopg.Connection) -> uuid.UUID:
    """One audit_log row of centrale, written as the pipeline's consumer would."""
    event_id = uuid.uuid4()
    event = {"action": "menu.price_changed", "event_id": str(event_id)}
    digest = hashlib.sha256(b"\0" * 32 + json.dumps(event, sort_keys=True).encode()).digest()
    admin_db.execute(
        "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
        " VALUES (%s, %s, (SELECT coalesce(max(seq), 0) + 1 FROM audit_log WHERE venue_id = %s),"
        " %s, %s, %s)",
        (event_id, CENTRALE, CENTRALE, b"\0" * 32, digest, json.dumps(event)),
    )
    return event_id


TAMPERING = {
    "update": "UPDATE audit_log SET event = '{}'::jsonb",
    "delete": "DELETE FROM audit_log",
    "truncate": "TRUNCATE audit_log",
    "disable trigger": "ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete",
    "disable all triggers": "ALTER TABLE audit_log DISABLE TRIGGER ALL",
    "replica mode": "SET session_replication_role = replica",
    "drop table": "DROP TABLE audit_log",
}


@pytest.mark.parametrize("statement", TAMPERING.values(), ids=TAMPERING.keys())
def test_the_runtime_role_cannot_rewrite_history(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    logged_event: uuid.UUID,
    statement: str,
) -> None:
    """Given an event in audit_log, when the runtime role tries to change, remove or
    unprotect it, then the database refuses and the event is intact."""
    before = admin_db.execute(
        "SELECT event, hash FROM audit_log WHERE event_id = %s", (logged_event,)
    ).fetchone()

    with pytest.raises(psycopg.Error), runtime_db.transaction():
        runtime_db.execute("SELECT set_config('app.venue_id', %s, true)", (str(CENTRALE),))
        runtime_db.execute(statement)

    after = admin_db.execute(
        "SELECT event, hash FROM audit_log WHERE event_id = %s", (logged_event,)
    ).fetchone()
    assert after == before


def test_even_the_owner_cannot_update_or_delete_in_replica_mode(
    admin_db: psycopg.Connection, logged_event: uuid.UUID
) -> None:
    """The triggers are ENABLE ALWAYS: replica mode (which skips ordinary triggers) does not
    switch them off, even for a superuser."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), admin_db.transaction():
        admin_db.execute("SET LOCAL session_replication_role = replica")
        admin_db.execute("DELETE FROM audit_log WHERE event_id = %s", (logged_event,))

    assert admin_db.execute(
        "SELECT count(*) FROM audit_log WHERE event_id = %s", (logged_event,)
    ).fetchone() == (1,)
