"""Defence in depth: a query that forgot its WHERE venue_id still sees one venue only."""

from __future__ import annotations

import psycopg
import pytest

from infra.local.seed import CENTRALE, NORD

FORGOT_WHERE = "SELECT DISTINCT venue_id FROM orders"  # deliberately unscoped


def test_an_unscoped_query_returns_only_the_bound_venues_rows(
    runtime_db: psycopg.Connection,
) -> None:
    """Given the runtime role with centrale bound, when a query forgets its venue filter,
    then it still returns centrale's rows only."""
    with runtime_db.transaction():
        runtime_db.execute("SELECT set_config('app.venue_id', %s, true)", (str(CENTRALE),))
        venues = runtime_db.execute(FORGOT_WHERE).fetchall()

    assert venues == [(CENTRALE,)]


def test_an_unscoped_query_with_no_venue_bound_returns_nothing(
    runtime_db: psycopg.Connection,
) -> None:
    """Given the runtime role with no venue bound, every venue table looks empty."""
    with runtime_db.transaction():
        orders = runtime_db.execute(FORGOT_WHERE).fetchall()
        prices = runtime_db.execute("SELECT count(*) FROM menu_item_prices").fetchone()
        items = runtime_db.execute("SELECT count(*) FROM menu_items").fetchone()

    assert orders == []
    assert prices == (0,)
    assert items == (0,)


def test_the_binding_ends_with_the_transaction(runtime_db: psycopg.Connection) -> None:
    """Given a transaction that bound nord, when the connection is reused afterwards (as a
    pool or RDS Proxy would), then it carries no venue."""
    with runtime_db.transaction():
        runtime_db.execute("SELECT set_config('app.venue_id', %s, true)", (str(NORD),))
        assert runtime_db.execute(FORGOT_WHERE).fetchall() == [(NORD,)]

    with runtime_db.transaction():
        leftover = runtime_db.execute("SELECT current_setting('app.venue_id', true)").fetchone()
        orders = runtime_db.execute(FORGOT_WHERE).fetchall()

    assert leftover in (("",), (None,))
    assert orders == []


def test_writing_a_row_for_another_venue_is_refused(runtime_db: psycopg.Connection) -> None:
    """Given centrale bound, an INSERT naming nord fails the policy check."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        runtime_db.execute("SELECT set_config('app.venue_id', %s, true)", (str(CENTRALE),))
        runtime_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 9999)", (NORD,))
