"""A read route sends no BEGIN or COMMIT: what it sends up to its Sync is one implicit
transaction. These pin down that such a transaction always ends with the request: committed
when the request succeeds, rolled back when it fails, and never left open on the connection
for the next request (with the previous caller's bindings in it)."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from infra.local import postgres
from tenancy.db import GateConnection, connect


@pytest.fixture
def conn(database: postgres.Database, admin_db: psycopg.Connection) -> Iterator[GateConnection]:
    admin_db.execute("CREATE TABLE IF NOT EXISTS read_transaction_probe (note text)")
    admin_db.execute("TRUNCATE read_transaction_probe")
    admin_db.execute("GRANT SELECT, INSERT ON read_transaction_probe TO app_venue")
    connection = connect(database.venue_url)
    yield connection
    connection.close()
    admin_db.execute("DROP TABLE read_transaction_probe")


def _notes(admin_db: psycopg.Connection) -> list[str]:
    return [row[0] for row in admin_db.execute("SELECT note FROM read_transaction_probe")]


def test_a_read_that_read_its_results_early_still_commits_at_its_end(
    conn: GateConnection, admin_db: psycopg.Connection
) -> None:
    """Given a read that writes and reads every result before it ends (a Flush, no Sync),
    when it ends, then its write is committed."""
    with conn.request():
        conn.begin(read=True)
        conn.execute("INSERT INTO read_transaction_probe VALUES ('kept')")
        conn.execute("SELECT 1").fetchone()
        conn.end_read()

    assert _notes(admin_db) == ["kept"]


def test_a_read_that_fails_after_reading_its_results_writes_nothing_and_leaves_nothing(
    conn: GateConnection, admin_db: psycopg.Connection
) -> None:
    """Given a read that set a venue binding, wrote and read every result, when it fails,
    then nothing it wrote is committed and the next request on the connection starts a new
    transaction with no binding of the previous one."""
    with pytest.raises(RuntimeError, match="refused"), conn.request():
        conn.begin(read=True)
        conn.execute("SELECT set_config('app.venue_id', 'a-previous-venue', true)")
        conn.execute("INSERT INTO read_transaction_probe VALUES ('dropped')")
        conn.execute("SELECT 1").fetchone()
        raise RuntimeError("refused")

    with conn.request():
        conn.begin(read=True)
        row = conn.execute("SELECT current_setting('app.venue_id', true)").fetchone()
        conn.end_read()

    assert _notes(admin_db) == []
    assert row is not None
    assert row[0] in ("", None)
