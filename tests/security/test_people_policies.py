"""The policies of migration 0007 as the last line: what the venue role may write in the
platform area (only as a platform admin with a second factor), the switcher's memory (only
one's own, only for one's venues) and account-level audit events (only as their actor)."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import psycopg
import pytest

from infra.local.seed import CENTRALE, GROUP_IO, LUME, NORD, USER
from tenancy.bindings import PLATFORM_ADMIN
from tenancy.permissions import Role
from tests.conftest import Bind
from tests.support.demo_users import attach, new_user

ADMIN = USER["platform_admin"].id
MANAGER = USER["manager"].id  # nord only


def outcome(conn: psycopg.Connection, write: Callable[[], object]) -> object:
    """What a write did inside a rolled-back transaction: its rows, or 'refused'."""
    try:
        with conn.transaction(force_rollback=True):
            return write()
    except psycopg.errors.InsufficientPrivilege:
        return "refused"


def new_group(conn: psycopg.Connection, created_by: uuid.UUID) -> object:
    return conn.execute(
        "INSERT INTO venue_groups (id, name, created_by) VALUES (%s, 'G', %s) RETURNING 1",
        (uuid.uuid4(), created_by),
    ).fetchall()


def new_venue(conn: psycopg.Connection, created_by: uuid.UUID) -> object:
    venue_id = uuid.uuid4()
    return conn.execute(
        "INSERT INTO venues (id, group_id, name, slug, created_by)"
        " VALUES (%s, %s, 'V', %s, %s) RETURNING 1",
        (venue_id, GROUP_IO, f"p-{venue_id.hex[:12]}", created_by),
    ).fetchall()


@pytest.mark.parametrize("write", [new_group, new_venue], ids=["venue group", "venue"])
def test_only_a_platform_admin_with_a_second_factor_creates_groups_and_venues(
    runtime_db: psycopg.Connection,
    bind: Bind,
    write: Callable[[psycopg.Connection, uuid.UUID], object],
) -> None:
    """Given the venue role bound for the platform admin with and without a second factor,
    and for nord's manager, when each inserts a group or a venue signed with their own id,
    then only the admin with a second factor may; nobody may sign it with another's id."""

    def as_(user: uuid.UUID, *, mfa: bool, created_by: uuid.UUID | None = None) -> object:
        def attempt() -> object:
            bind(runtime_db, user_id=user, venue_id=None, mfa=mfa)
            return write(runtime_db, created_by or user)

        return outcome(runtime_db, attempt)

    assert as_(ADMIN, mfa=True) == [(1,)]
    assert as_(ADMIN, mfa=False) == "refused"
    assert as_(MANAGER, mfa=True) == "refused"
    assert as_(ADMIN, mfa=True, created_by=MANAGER) == "refused"


def test_only_a_platform_admin_with_a_second_factor_disables_accounts_never_their_own(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given an account made for this test, when the platform admin (with a second factor)
    disables it, it is disabled; the same admin cannot disable themselves, without a second
    factor nobody, and a manager matches no row at all."""
    target = new_user(admin_db, "Someone")
    disable = "UPDATE users SET disabled_at = now() WHERE id = %s RETURNING 1"

    def as_(user: uuid.UUID, *, mfa: bool, whom: uuid.UUID) -> object:
        def attempt() -> object:
            bind(runtime_db, user_id=user, venue_id=None, mfa=mfa)
            return runtime_db.execute(disable, (whom,)).fetchall()

        return outcome(runtime_db, attempt)

    assert as_(ADMIN, mfa=True, whom=target) == [(1,)]
    assert as_(ADMIN, mfa=True, whom=ADMIN) == []
    assert as_(ADMIN, mfa=False, whom=target) == []
    assert as_(MANAGER, mfa=True, whom=target) == []


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE users SET is_platform_admin = true WHERE id = %(user)s",
        "UPDATE users SET email = 'taken@example.com' WHERE id = %(user)s",
        "UPDATE venues SET name = 'renamed' WHERE id = %(venue)s",
        "DELETE FROM venues WHERE id = %(venue)s",
        "DELETE FROM users WHERE id = %(user)s",
    ],
    ids=["grant platform admin", "change an email", "rename a venue", "delete a venue", "delete"],
)
def test_even_a_platform_admin_writes_nothing_else_of_accounts_and_venues(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind, statement: str
) -> None:
    """Given the venue role bound for the platform admin with a second factor, then making
    someone platform admin (an operations command, never a route), changing an email, or
    renaming or deleting a venue is refused by the grants."""
    target = new_user(admin_db, "Someone")

    def attempt() -> object:
        bind(runtime_db, user_id=ADMIN, venue_id=None, mfa=True)
        return runtime_db.execute(statement, {"user": target, "venue": LUME})

    assert outcome(runtime_db, attempt) == "refused"


def remember(conn: psycopg.Connection, user: uuid.UUID, venue: uuid.UUID) -> object:
    return conn.execute(
        "INSERT INTO user_current_venues (user_id, venue_id) VALUES (%s, %s)"
        " ON CONFLICT (user_id) DO UPDATE SET venue_id = EXCLUDED.venue_id RETURNING 1",
        (user, venue),
    ).fetchall()


def test_the_switchers_memory_is_ones_own_and_only_for_ones_venues(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given the head chef of centrale, when they store their current venue, then centrale
    is accepted, lume (not theirs) refused, and storing one for somebody else refused; a
    platform admin with a second factor may store any venue."""
    chef = USER["head_chef"].id

    def as_(user: uuid.UUID, whose: uuid.UUID, venue: uuid.UUID, *, mfa: bool = False) -> object:
        def attempt() -> object:
            bind(runtime_db, user_id=user, venue_id=None, mfa=mfa)
            return remember(runtime_db, whose, venue)

        return outcome(runtime_db, attempt)

    assert as_(chef, chef, CENTRALE) == [(1,)]
    assert as_(chef, chef, LUME) == "refused"
    assert as_(chef, MANAGER, CENTRALE) == "refused"
    assert as_(ADMIN, ADMIN, LUME, mfa=True) == [(1,)]
    assert as_(ADMIN, ADMIN, LUME, mfa=False) == "refused"


def test_nobody_reads_another_persons_current_venue(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given a stored current venue of a waiter of nord, when the head chef of centrale
    reads the table with genuine bindings, then it shows them nothing of it."""
    waiter = new_user(admin_db, "Waiter at nord")
    attach(admin_db, waiter, NORD, Role.WAITER)
    admin_db.execute(
        "INSERT INTO user_current_venues (user_id, venue_id) VALUES (%s, %s)", (waiter, NORD)
    )
    with runtime_db.transaction():
        bind(runtime_db, user_id=USER["head_chef"].id, venue_id=CENTRALE)
        seen = runtime_db.execute("SELECT user_id FROM user_current_venues").fetchall()

    assert waiter not in [row[0] for row in seen]


def test_an_account_level_audit_event_is_written_only_by_its_actor(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given the venue role bound for the head chef without a venue, an event without a venue
    naming them as actor is accepted; one naming somebody else, or nobody, is refused."""
    insert = (
        "INSERT INTO audit_outbox (id, venue_id, actor_user_id, action, target_type)"
        " VALUES (gen_random_uuid(), NULL, %s, 'account.example', 'user') RETURNING 1"
    )
    chef = USER["head_chef"].id

    def as_actor(actor: uuid.UUID | None) -> object:
        def attempt() -> object:
            bind(runtime_db, user_id=chef, venue_id=None)
            return runtime_db.execute(insert, (actor,)).fetchall()

        return outcome(runtime_db, attempt)

    assert as_actor(chef) == [(1,)]
    assert as_actor(MANAGER) == "refused"
    assert as_actor(None) == "refused"


def test_with_nothing_bound_no_account_venue_or_group_is_seen(
    runtime_db: psycopg.Connection,
) -> None:
    """Given the venue role with no bindings (an injected statement on a fresh connection),
    names of people, venues and groups are hidden too."""
    with runtime_db.transaction():
        counts = [
            runtime_db.execute(f"SELECT count(*) FROM {table}").fetchone()
            for table in ("users", "venues", "venue_groups", "user_current_venues")
        ]

    assert counts == [(0,)] * 4


def test_the_platform_policies_ask_the_verifier_for_tenancys_platform_admin_value(
    admin_db: psycopg.Connection,
) -> None:
    """The policies name the platform-admin check by value, as the flags: it must be the
    value the functions ask for (tenancy.bindings.PLATFORM_ADMIN)."""
    rows = admin_db.execute(
        "SELECT policyname, coalesce(with_check, qual) FROM pg_policies WHERE policyname = ANY(%s)",
        (["venue_groups_platform_insert", "venues_platform_insert", "users_platform_update"],),
    ).fetchall()

    assert len(rows) == 3
    assert all(f"binding_allows(('{PLATFORM_ADMIN}'" in expression for _, expression in rows), rows
