"""Row-level security for till sessions: a till session's signed binding opens its own venue
with its staff member's flags, and nothing else, whatever else has changed since it opened
(infra/migrations/0008_tills.sql, docs/database-roles.md)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from infra.local import postgres
from infra.local.seed import CENTRALE, NORD, TILL_CLIENT_ID, USER, menu_item_id
from tenancy.bindings import BindingKey
from tenancy.permissions import ROLE_DEFAULTS, Permission, Role
from tests.conftest import Bind
from tests.support.second_factor import new_venue, require_mfa_for_admins

ORDERS = "SELECT DISTINCT venue_id FROM orders"  # deliberately unscoped
PRICE_UPDATE = (
    "UPDATE menu_item_prices SET price_cents = price_cents WHERE venue_id = %s"
    " AND item_id = %s RETURNING 1"
)

BindTill = Callable[..., None]


@pytest.fixture
def bind_till(database: postgres.Database) -> BindTill:
    """Binds a till session exactly as the gate does: no user, the till session's id."""
    key = BindingKey.from_setting(database.binding_key)

    def bind(conn: psycopg.Connection, session_id: uuid.UUID, venue_id: uuid.UUID) -> None:
        bindings = key.bind(user_id=None, session_id=session_id, venue_id=venue_id, mfa=False)
        conn.execute(bindings.SQL, bindings.as_params())

    return bind


def staff_member(
    admin_db: psycopg.Connection,
    venue_id: uuid.UUID,
    role: Role,
    user_id: uuid.UUID | None = None,
) -> uuid.UUID:
    """A new member of staff at ``venue_id`` (linked to ``user_id`` when given)."""
    row = admin_db.execute(
        "INSERT INTO staff_members (venue_id, user_id, display_name, role)"
        " VALUES (%s, %s, 'Till test', %s) RETURNING id",
        (venue_id, user_id, role.value),
    ).fetchone()
    assert row is not None
    staff_id: uuid.UUID = row[0]
    return staff_id


def open_till_session(
    admin_db: psycopg.Connection,
    staff_id: uuid.UUID,
    venue_id: uuid.UUID = CENTRALE,
    client_id: str = TILL_CLIENT_ID,
) -> uuid.UUID:
    """A till session row as the issuer writes it: 12 hours, 30 minutes of inactivity."""
    session_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO till_sessions (id, venue_id, client_id, staff_member_id, idle_seconds,"
        " expires_at) VALUES (%s, %s, %s, %s, 1800, now() + interval '12 hours')",
        (session_id, venue_id, client_id, staff_id),
    )
    return session_id


@pytest.fixture
def waiter_session(admin_db: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID]:
    """(staff member, till session): a waiter without an account, on centrale's till."""
    staff_id = staff_member(admin_db, CENTRALE, Role.WAITER)
    return staff_id, open_till_session(admin_db, staff_id)


def seen_orders(
    runtime_db: psycopg.Connection, bind_till: BindTill, session_id: uuid.UUID, venue: uuid.UUID
) -> list[tuple[uuid.UUID]]:
    with runtime_db.transaction():
        bind_till(runtime_db, session_id, venue)
        rows: list[tuple[uuid.UUID]] = runtime_db.execute(ORDERS).fetchall()
    return rows


def test_the_role_catalogue_in_the_database_is_role_defaults(
    admin_db: psycopg.Connection,
) -> None:
    """Given role_permissions, the flags the verifier gives a till session's role, then each
    row is exactly tenancy.ROLE_DEFAULTS for that role, and every role has a row."""
    rows: dict[str, int] = dict(
        admin_db.execute("SELECT role, permissions FROM role_permissions").fetchall()
    )

    assert rows == {role.value: int(flags) for role, flags in ROLE_DEFAULTS.items()}


def test_a_till_session_binding_opens_its_venue_with_its_roles_flags(
    runtime_db: psycopg.Connection,
    bind_till: BindTill,
    waiter_session: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """Given a waiter's till session at centrale, when it is bound as the gate binds it, then
    an unscoped query sees centrale's orders only, the waiter may take orders (TAKE_ORDERS)
    and may not change a price (no EDIT_PRICES)."""
    _, session_id = waiter_session
    item = menu_item_id("Tiramisù")

    assert seen_orders(runtime_db, bind_till, session_id, CENTRALE) == [(CENTRALE,)]
    with runtime_db.transaction(force_rollback=True):
        bind_till(runtime_db, session_id, CENTRALE)
        prices = runtime_db.execute(PRICE_UPDATE, (CENTRALE, item)).fetchall()
        runtime_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 99990)", (CENTRALE,))
    assert prices == []


def test_a_till_session_bound_for_another_venue_sees_nothing(
    runtime_db: psycopg.Connection,
    bind_till: BindTill,
    waiter_session: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """Given centrale's till session, when the binding names nord (signed, as a gate bug
    would send it), then no venue row shows and an insert for nord is refused."""
    _, session_id = waiter_session

    assert seen_orders(runtime_db, bind_till, session_id, NORD) == []
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        bind_till(runtime_db, session_id, NORD)
        runtime_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 99991)", (NORD,))


ENDINGS = {
    "locked": "UPDATE till_sessions SET ended_at = now() WHERE id = %(session)s",
    "past its shift": "UPDATE till_sessions SET expires_at = now() WHERE id = %(session)s",
    "idle": (
        "UPDATE till_sessions SET last_seen_at = now() - interval '31 minutes'"
        " WHERE id = %(session)s"
    ),
    "device moved away": (
        "DELETE FROM till_device_venues WHERE client_id = %(client)s AND venue_id = %(venue)s"
    ),
    "device disabled": (
        "UPDATE oauth_clients SET disabled_at = now() WHERE client_id = %(client)s"
    ),
}


@pytest.mark.parametrize("ending", ENDINGS.values(), ids=ENDINGS.keys())
def test_a_till_session_that_ended_sees_nothing(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    bind_till: BindTill,
    ending: str,
) -> None:
    """Given a till session on a till of its own that sees centrale's orders, when it is
    locked, reaches its end or its inactivity limit, or its device stops serving centrale,
    then the same binding sees nothing."""
    client_id = f"till-test-{uuid.uuid4().hex[:12]}"
    admin_db.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, secret_hash)"
        " VALUES (%s, 'Test till', 'till', 'x')",
        (client_id,),
    )
    admin_db.execute(
        "INSERT INTO till_device_venues (client_id, venue_id) VALUES (%s, %s)",
        (client_id, CENTRALE),
    )
    staff_id = staff_member(admin_db, CENTRALE, Role.CASUAL)
    session_id = open_till_session(admin_db, staff_id, client_id=client_id)
    assert seen_orders(runtime_db, bind_till, session_id, CENTRALE) == [(CENTRALE,)]

    admin_db.execute(ending, {"session": session_id, "client": client_id, "venue": CENTRALE})

    assert seen_orders(runtime_db, bind_till, session_id, CENTRALE) == []


@pytest.mark.parametrize("how", ["detached", "disabled"])
def test_a_staff_member_whose_account_lost_the_venue_sees_nothing(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    bind_till: BindTill,
    how: str,
) -> None:
    """Given a member of staff linked to an account attached to centrale, with a till
    session, when the account is detached from centrale or disabled, then the till session's
    binding sees nothing."""
    user_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, 'Till test')",
        (user_id, f"{user_id.hex}@io-osteria.example"),
    )
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'waiter', %s)",
        (CENTRALE, user_id, int(ROLE_DEFAULTS[Role.WAITER])),
    )
    session_id = open_till_session(admin_db, staff_member(admin_db, CENTRALE, Role.WAITER, user_id))
    assert seen_orders(runtime_db, bind_till, session_id, CENTRALE) == [(CENTRALE,)]

    if how == "detached":
        admin_db.execute("DELETE FROM venue_attachments WHERE user_id = %s", (user_id,))
    else:
        admin_db.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (user_id,))

    assert seen_orders(runtime_db, bind_till, session_id, CENTRALE) == []


def test_a_linked_accounts_attachment_narrows_the_till_sessions_flags(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind_till: BindTill
) -> None:
    """Given a member of staff whose role is manager (EDIT_PRICES) but whose account's
    attachment was narrowed to viewing orders, when their till session changes a price, then
    nothing changes: the role's flags are narrowed to the attachment's."""
    user_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, 'Till test')",
        (user_id, f"{user_id.hex}@io-osteria.example"),
    )
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'manager', %s)",
        (CENTRALE, user_id, int(Permission.VIEW_ORDERS)),
    )
    session_id = open_till_session(
        admin_db, staff_member(admin_db, CENTRALE, Role.MANAGER, user_id)
    )

    with runtime_db.transaction(force_rollback=True):
        bind_till(runtime_db, session_id, CENTRALE)
        changed = runtime_db.execute(PRICE_UPDATE, (CENTRALE, menu_item_id("Tiramisù"))).fetchall()
        orders = runtime_db.execute(ORDERS).fetchall()

    assert changed == []
    assert orders == [(CENTRALE,)]


def test_a_pin_is_not_a_second_factor(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind_till: BindTill
) -> None:
    """Given a venue requiring MFA of its admins, when a manager's till session is bound
    there, then it sees no orders; a waiter's till session there still does."""
    venue = new_venue(admin_db)
    admin_db.execute(
        "INSERT INTO till_device_venues (client_id, venue_id) VALUES (%s, %s)",
        (TILL_CLIENT_ID, venue),
    )
    admin_db.execute("INSERT INTO orders (venue_id, number) VALUES (%s, 1)", (venue,))
    manager = open_till_session(admin_db, staff_member(admin_db, venue, Role.MANAGER), venue)
    waiter = open_till_session(admin_db, staff_member(admin_db, venue, Role.WAITER), venue)
    require_mfa_for_admins(admin_db, venue, True)

    assert seen_orders(runtime_db, bind_till, manager, venue) == []
    assert seen_orders(runtime_db, bind_till, waiter, venue) == [(venue,)]


def test_a_till_session_sees_its_own_session_row_only(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    bind_till: BindTill,
    waiter_session: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """Given two till sessions of waiters at centrale, when one is bound, then it sees its
    own till session row and not the other's (nor can it end the other)."""
    _, mine = waiter_session
    other = open_till_session(admin_db, staff_member(admin_db, CENTRALE, Role.WAITER))

    with runtime_db.transaction():
        bind_till(runtime_db, mine, CENTRALE)
        seen = runtime_db.execute("SELECT id FROM till_sessions").fetchall()
        ended = runtime_db.execute(
            "UPDATE till_sessions SET ended_at = now() WHERE id = %s RETURNING 1", (other,)
        ).fetchall()

    assert seen == [(mine,)]
    assert ended == []


def test_pin_digests_are_hidden_from_those_who_do_not_manage_staff(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    bind_till: BindTill,
    bind: Bind,
    waiter_session: tuple[uuid.UUID, uuid.UUID],
) -> None:
    """Given a PIN digest at centrale, when a waiter's till session, and centrale's head
    chef (no MANAGE_STAFF), read staff_pins, then they see nothing; the regional manager
    (MANAGE_STAFF) sees it."""
    staff_id, session_id = waiter_session
    admin_db.execute(
        "INSERT INTO staff_pins (staff_member_id, venue_id, key_id, pin_hmac)"
        " VALUES (%s, %s, 'test', %s)",
        (staff_id, CENTRALE, uuid.uuid4().bytes * 2),
    )
    count = "SELECT count(*) FROM staff_pins WHERE staff_member_id = %s"
    seen: dict[str, object] = {}
    with runtime_db.transaction():
        bind_till(runtime_db, session_id, CENTRALE)
        seen["waiter's till session"] = runtime_db.execute(count, (staff_id,)).fetchone()
    for who in ("head_chef", "regional"):
        with runtime_db.transaction():
            bind(runtime_db, user_id=USER[who].id, venue_id=CENTRALE)
            seen[who] = runtime_db.execute(count, (staff_id,)).fetchone()

    assert seen == {"waiter's till session": (0,), "head_chef": (0,), "regional": (1,)}
