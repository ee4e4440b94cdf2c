"""Row-level security as the last line: whatever a statement of the venue role tries, it sees
and changes only what the gate's genuine bindings allow."""

from __future__ import annotations

from collections.abc import Callable

import psycopg
import pytest

from infra.local import postgres
from infra.local.seed import CENTRALE, NORD, USER, menu_item_id, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.permissions import Permission
from tests.conftest import Bind, copy_of_demo_user

FORGOT_WHERE = "SELECT DISTINCT venue_id FROM orders"  # deliberately unscoped

#: Every table with a venue_id that the venue role may read.
VENUE_TABLES = [
    "venue_attachments",
    "staff_members",
    "menu_item_prices",
    "orders",
    "order_items",
    "venue_settings",
    "till_device_venues",
    "shifts",
    "stock_counts",
    "menu_item_availability",
    "diners",
    "diner_visits",
    "diner_consents",
    "staff_pins",
    "till_sessions",
    "audit_log",
]

CENTRALE_ONLY = USER["head_chef"].id


def count(conn: psycopg.Connection, query: str, *params: object) -> int:
    row = conn.execute(query, params).fetchone()
    assert row is not None
    return int(row[0])


def nord_rows(conn: psycopg.Connection) -> dict[str, int]:
    """How many of nord's rows each venue table shows this connection."""
    return {
        table: count(conn, f"SELECT count(*) FROM {table} WHERE venue_id = %s", NORD)
        for table in VENUE_TABLES
    }


def nord_writes(conn: psycopg.Connection) -> dict[str, Callable[[], object]]:
    """One write per venue table aimed at nord, each refused or without effect."""
    tiramisu = menu_item_id("Tiramisù")
    return {
        "insert order": lambda: conn.execute(
            "INSERT INTO orders (venue_id, number) VALUES (%s, 99999)", (NORD,)
        ),
        "update orders": lambda: conn.execute(
            "UPDATE orders SET status = 'cancelled' WHERE venue_id = %s RETURNING 1", (NORD,)
        ).fetchall(),
        "delete order lines": lambda: conn.execute(
            "DELETE FROM order_items WHERE venue_id = %s RETURNING 1", (NORD,)
        ).fetchall(),
        "set a price": lambda: conn.execute(
            "UPDATE menu_item_prices SET price_cents = 1 WHERE venue_id = %s AND item_id = %s"
            " RETURNING 1",
            (NORD, tiramisu),
        ).fetchall(),
        "attach oneself": lambda: conn.execute(
            "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
            " VALUES (%s, %s, 'owner', %s)",
            (NORD, CENTRALE_ONLY, int(Permission.all())),
        ),
        "change settings": lambda: conn.execute(
            "UPDATE venue_settings SET service_charge_bps = 999 WHERE venue_id = %s RETURNING 1",
            (NORD,),
        ).fetchall(),
        "add staff": lambda: conn.execute(
            "INSERT INTO staff_members (venue_id, display_name, role) VALUES (%s, 'x', 'waiter')",
            (NORD,),
        ),
    }


def test_an_unscoped_query_returns_only_the_bound_venues_rows(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given the venue role with centrale genuinely bound for its head chef, when a query
    forgets its venue filter, then it still returns centrale's rows only."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=CENTRALE)
        venues = runtime_db.execute(FORGOT_WHERE).fetchall()

    assert venues == [(CENTRALE,)]


def test_with_nothing_bound_every_venue_table_looks_empty(
    runtime_db: psycopg.Connection,
) -> None:
    with runtime_db.transaction():
        counts = {
            table: runtime_db.execute(f"SELECT count(*) FROM {table}").fetchone()
            for table in [*VENUE_TABLES, "menu_items"]
        }

    assert set(counts.values()) == {(0,)}


def test_the_binding_ends_with_the_transaction(runtime_db: psycopg.Connection, bind: Bind) -> None:
    """Given a transaction that bound nord, when the connection is reused afterwards (as a
    pool or RDS Proxy would), then it carries no venue."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=USER["manager"].id, venue_id=NORD)
        assert runtime_db.execute(FORGOT_WHERE).fetchall() == [(NORD,)]

    with runtime_db.transaction():
        leftover = runtime_db.execute(
            "SELECT current_setting('app.venue_id', true), current_setting('app.binding', true)"
        ).fetchone()
        orders = runtime_db.execute(FORGOT_WHERE).fetchall()

    assert leftover in (("", ""), (None, None))
    assert orders == []


def test_a_genuine_binding_of_a_venue_the_user_is_not_attached_to_opens_nothing(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given bindings signed exactly as the gate signs them, for nord and centrale's head
    chef (what the gate sends before it has decided to refuse), then no venue table shows a
    nord row and every write to nord is refused or changes nothing."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=NORD)
        seen = nord_rows(runtime_db)
    assert seen == dict.fromkeys(VENUE_TABLES, 0)

    for name, write in nord_writes(runtime_db).items():
        outcome: object
        try:
            with runtime_db.transaction():
                bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=NORD)
                outcome = write()
        except psycopg.errors.InsufficientPrivilege:
            outcome = "refused"
        assert outcome in ("refused", []), name


@pytest.mark.parametrize("how", ["detached", "disabled", "session revoked"])
def test_a_user_who_lost_access_sees_nothing_even_with_a_genuine_binding(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    database: postgres.Database,
    bind: Bind,
    how: str,
) -> None:
    """Given a manager of nord who is then detached, disabled or signed out, bindings of
    nord for them (signed by the gate's key) show no nord row."""
    email = copy_of_demo_user(admin_db, USER["manager"], with_attachments=True)
    row = admin_db.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None
    user_id = row[0]
    session_id, _ = start_demo_session(database.admin_url, user_id)
    with runtime_db.transaction():
        bind(runtime_db, user_id=user_id, venue_id=NORD, session_id=session_id)
        assert nord_rows(runtime_db)["orders"] > 0  # the control

    if how == "detached":
        admin_db.execute("DELETE FROM venue_attachments WHERE user_id = %s", (user_id,))
    elif how == "disabled":
        admin_db.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (user_id,))
    else:
        admin_db.execute("UPDATE auth_sessions SET revoked_at = now() WHERE id = %s", (session_id,))

    with runtime_db.transaction():
        bind(runtime_db, user_id=user_id, venue_id=NORD, session_id=session_id)
        assert nord_rows(runtime_db) == dict.fromkeys(VENUE_TABLES, 0)


FORGERIES = {
    "settings alone, no signature": None,
    "a signature by another key": "other",
    "a signature for centrale reused for nord": "swap",
    "an expired signature": "expired",
}


@pytest.mark.parametrize("forgery", FORGERIES.values(), ids=FORGERIES.keys())
def test_bindings_set_by_a_statement_itself_see_nothing(
    runtime_db: psycopg.Connection, database: postgres.Database, forgery: str | None
) -> None:
    """Given an injected statement that sets the venue and user settings by hand (nord, its
    manager), then every venue table shows nothing and a write is refused."""
    manager = USER["manager"].id
    session_id, _ = start_demo_session(database.admin_url, manager)
    other_key = BindingKey.from_setting("local:" + "QUFB" * 11 + "QQ==")
    signed = {
        None: "",
        "other": other_key.bind(
            user_id=manager, session_id=session_id, venue_id=NORD, mfa=False
        ).binding,
        "swap": other_key.bind(
            user_id=manager, session_id=session_id, venue_id=CENTRALE, mfa=False
        ).binding,
        "expired": other_key.bind(
            user_id=manager, session_id=session_id, venue_id=NORD, mfa=False, now=0
        ).binding,
    }[forgery]
    settings = (str(NORD), str(manager), str(session_id), "0", signed)

    with runtime_db.transaction():
        runtime_db.execute(
            "SELECT set_config('app.venue_id', %s, true), set_config('app.user_id', %s, true),"
            " set_config('app.session_id', %s, true), set_config('app.mfa', %s, true),"
            " set_config('app.binding', %s, true)",
            settings,
        )
        assert nord_rows(runtime_db) == dict.fromkeys(VENUE_TABLES, 0)
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        runtime_db.execute(
            "SELECT set_config('app.venue_id', %s, true), set_config('app.user_id', %s, true),"
            " set_config('app.session_id', %s, true), set_config('app.mfa', %s, true),"
            " set_config('app.binding', %s, true)",
            settings,
        )
        runtime_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 99998)", (NORD,))


def test_writing_a_row_for_another_venue_is_refused(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given centrale genuinely bound for its head chef, an INSERT naming nord fails the
    policy check."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=CENTRALE)
        runtime_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 9999)", (NORD,))


def test_a_write_needs_the_flag_of_its_table(runtime_db: psycopg.Connection, bind: Bind) -> None:
    """Given centrale bound for its waiter (no EDIT_PRICES), a price update changes nothing,
    while the head chef (EDIT_PRICES) may."""
    item = menu_item_id("Tiramisù")
    update = (
        "UPDATE menu_item_prices SET price_cents = price_cents WHERE venue_id = %s"
        " AND item_id = %s RETURNING 1"
    )
    with runtime_db.transaction(force_rollback=True):
        bind(runtime_db, user_id=USER["waiter"].id, venue_id=CENTRALE)
        waiter = runtime_db.execute(update, (CENTRALE, item)).fetchall()
    with runtime_db.transaction(force_rollback=True):
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=CENTRALE)
        head_chef = runtime_db.execute(update, (CENTRALE, item)).fetchall()

    assert waiter == []
    assert head_chef == [(1,)]


def test_the_write_flags_in_the_policies_are_the_permission_values(
    admin_db: psycopg.Connection,
) -> None:
    """The policies name flags by value (docs/database-roles.md): they must be tenancy's."""
    flags = {
        "menu_item_prices": Permission.EDIT_PRICES,
        "orders": Permission.TAKE_ORDERS,
        "order_items": Permission.TAKE_ORDERS,
        "staff_members": Permission.MANAGE_STAFF,
        "venue_attachments": Permission.MANAGE_STAFF,
        "till_device_venues": Permission.MANAGE_STAFF,
        "venue_settings": Permission.MANAGE_SETTINGS,
        "recipes": Permission.MANAGE_GROUP,
        "suppliers": Permission.MANAGE_GROUP,
        "diners": Permission.TAKE_ORDERS,
        "diner_visits": Permission.TAKE_ORDERS,
        "diner_consents": Permission.TAKE_ORDERS,
        "menu_item_availability": Permission.EDIT_MENU,
        "stock_counts": Permission.EDIT_MENU,
    }
    # Tables written by some commands only, each with its flag(s).
    partial = {
        ("menu_items", "INSERT"): [Permission.EDIT_MENU],
        ("menu_items", "UPDATE"): [Permission.EDIT_MENU],
        ("shifts", "INSERT"): [Permission.OPEN_SHIFT],
        ("shifts", "UPDATE"): [Permission.CLOSE_SHIFT, Permission.REOPEN_SHIFT],
    }
    policies = admin_db.execute(
        "SELECT tablename, cmd, coalesce(with_check, qual) FROM pg_policies"
        " WHERE tablename = ANY(%s) AND cmd IN ('INSERT', 'UPDATE', 'DELETE')"
        " AND 'app_venue' = ANY(roles)",
        (list(flags),),
    ).fetchall()

    assert {(table, cmd) for table, cmd, _ in policies} == {
        (table, cmd) for table in flags for cmd in ("INSERT", "UPDATE", "DELETE")
    }
    wrong = [
        (table, cmd)
        for table, cmd, expression in policies
        if f"binding_allows(({int(flags[table])})" not in expression
    ]
    assert wrong == []
    partial_policies = admin_db.execute(
        "SELECT tablename, cmd, coalesce(qual, '') || coalesce(with_check, '') FROM pg_policies"
        " WHERE tablename = ANY(%s) AND cmd IN ('INSERT', 'UPDATE', 'DELETE', 'ALL')"
        " AND 'app_venue' = ANY(roles)",
        (sorted({table for table, _ in partial}),),
    ).fetchall()
    assert {(table, cmd) for table, cmd, _ in partial_policies} == set(partial)
    wrong_flags = [
        (table, cmd, flag)
        for table, cmd, expression in partial_policies
        for flag in partial[(table, cmd)]
        if f"binding_allows(({int(flag)})" not in expression
    ]
    assert wrong_flags == []


def test_only_an_owner_writes_the_catalogue_and_only_a_reopener_reopens(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given centrale bound for its regional manager (EDIT_MENU, not an owner), a catalogue
    update changes nothing while the group's owner's does; given a closed shift, the head
    chef's reopening statement (no REOPEN_SHIFT) fails the policy: the database refuses what
    a handler forgot to check."""
    item = menu_item_id("Tiramisù")
    rename = "UPDATE menu_items SET name = name WHERE id = %s RETURNING 1"
    shift = admin_db.execute(
        "INSERT INTO shifts (venue_id, opened_by, opened_at, closed_at, closed_by)"
        " VALUES (%s, %s, now() - interval '2 days', now() - interval '1 day', %s) RETURNING id",
        (CENTRALE, CENTRALE_ONLY, CENTRALE_ONLY),
    ).fetchone()
    assert shift is not None
    reopen = "UPDATE shifts SET closed_at = NULL, closed_by = NULL WHERE id = %s RETURNING 1"

    with runtime_db.transaction(force_rollback=True):
        bind(runtime_db, user_id=USER["regional"].id, venue_id=CENTRALE)
        regional = runtime_db.execute(rename, (item,)).fetchall()
    with runtime_db.transaction(force_rollback=True):
        bind(runtime_db, user_id=USER["owner"].id, venue_id=CENTRALE)
        owner = runtime_db.execute(rename, (item,)).fetchall()
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=CENTRALE)
        runtime_db.execute(reopen, (shift[0],))

    assert regional == []
    assert owner == [(1,)]
    assert admin_db.execute(
        "SELECT closed_at IS NOT NULL FROM shifts WHERE id = %s", (shift[0],)
    ).fetchone() == (True,)


def test_the_verifier_is_one_statement_one_call(runtime_db: psycopg.Connection, bind: Bind) -> None:
    """The attachment check is an uncorrelated sub-select: planned once per statement (an
    InitPlan), not once per row."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=CENTRALE_ONLY, venue_id=CENTRALE)
        plan = "\n".join(
            row[0]
            for row in runtime_db.execute(
                "EXPLAIN (VERBOSE) SELECT * FROM orders WHERE venue_id = %s", (CENTRALE,)
            ).fetchall()
        )

    init_plan = plan[plan.index("InitPlan") :].splitlines()[:3]
    assert any("binding_allows" in line for line in init_plan), plan


def test_a_failed_commit_leaves_the_connection_clean(database: postgres.Database) -> None:
    """Given a request whose COMMIT fails (a deferred constraint), when the request ends,
    then the connection is rolled back and idle, ready for the next request."""
    from psycopg.pq import TransactionStatus

    from tenancy.db import connect

    conn = connect(database.venue_url)
    try:
        with pytest.raises(psycopg.Error), conn.request():
            conn.execute("BEGIN")
            conn.execute("SET CONSTRAINTS ALL DEFERRED")
            conn.execute("SELECT 1/0")
            conn.execute("COMMIT")
            conn.transaction_ended = True
        assert conn.info.transaction_status == TransactionStatus.IDLE
        with conn.request():
            assert conn.execute("SELECT 1").fetchone() == (1,)
    finally:
        conn.close()
