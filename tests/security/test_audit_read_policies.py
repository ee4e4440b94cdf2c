"""Who may read the audit trail through row-level security: a venue's own rows with
VIEW_AUDIT, every row for a platform admin with a second factor on a route bound to no venue
(docs/database-roles.md), and the platform read's own audit event."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

import psycopg
import pytest

from infra.local import postgres
from infra.local.seed import CENTRALE, TILL_CLIENT_ID, USER
from tenancy.bindings import BindingKey
from tenancy.permissions import Role
from tests.conftest import Bind
from tests.support.demo_users import attach, new_user
from tests.support.second_factor import new_venue

ADMIN = USER["platform_admin"].id


def log_row(admin_db: psycopg.Connection, venue_id: uuid.UUID | None) -> uuid.UUID:
    """One audit_log row, written as the consumer would (the superuser stands in for it)."""
    event_id = uuid.uuid4()
    event = {"action": "menu.price_changed", "id": str(event_id)}
    digest = hashlib.sha256(bytes(32) + json.dumps(event).encode()).digest()
    admin_db.execute(
        "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
        " SELECT %(id)s, %(venue)s, coalesce(max(seq), 0) + 1, %(prev)s, %(hash)s, %(event)s"
        " FROM audit_log WHERE venue_id IS NOT DISTINCT FROM %(venue)s",
        {
            "id": event_id,
            "venue": venue_id,
            "prev": bytes(32),
            "hash": digest,
            "event": json.dumps(event),
        },
    )
    return event_id


@dataclass(frozen=True)
class Trails:
    venue: uuid.UUID
    other_venue: uuid.UUID
    #: event ids of each venue's row and of a platform-level row
    venue_event: uuid.UUID
    other_event: uuid.UUID
    platform_event: uuid.UUID
    manager: uuid.UUID
    head_chef: uuid.UUID


@pytest.fixture
def trails(admin_db: psycopg.Connection) -> Trails:
    """Two venues of their own with one logged event each, a platform-level event, the
    first venue's manager (VIEW_AUDIT) and its head chef (without)."""
    venue, other = new_venue(admin_db), new_venue(admin_db)
    manager, head_chef = new_user(admin_db, "Manager"), new_user(admin_db, "Head chef")
    attach(admin_db, manager, venue, Role.MANAGER)
    attach(admin_db, head_chef, venue, Role.HEAD_CHEF)
    return Trails(
        venue,
        other,
        log_row(admin_db, venue),
        log_row(admin_db, other),
        log_row(admin_db, None),
        manager,
        head_chef,
    )


def visible(conn: psycopg.Connection, trails: Trails) -> set[str]:
    """Which of the three events this transaction's bindings let it read."""
    names = {
        trails.venue_event: "venue",
        trails.other_event: "other venue",
        trails.platform_event: "platform",
    }
    rows = conn.execute(
        "SELECT event_id FROM audit_log WHERE event_id = ANY(%s)", (list(names),)
    ).fetchall()
    return {names[row[0]] for row in rows}


def test_a_venue_reads_its_own_trail_with_view_audit_only(
    runtime_db: psycopg.Connection, bind: Bind, trails: Trails
) -> None:
    """Given a venue's manager (VIEW_AUDIT) and head chef (without), when each reads the
    trail with their venue genuinely bound, then the manager sees that venue's row only and
    the head chef sees nothing."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=trails.manager, venue_id=trails.venue)
        manager = visible(runtime_db, trails)
    with runtime_db.transaction():
        bind(runtime_db, user_id=trails.head_chef, venue_id=trails.venue)
        head_chef = visible(runtime_db, trails)

    assert manager == {"venue"}
    assert head_chef == set()


def test_a_platform_admin_with_a_second_factor_reads_every_trail_bound_to_no_venue(
    runtime_db: psycopg.Connection, bind: Bind, trails: Trails
) -> None:
    """Given the platform admin bound to no venue, when they read the trail with a second
    factor in their session, then every venue's rows and the platform's are visible; without
    the second factor, none."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=ADMIN, venue_id=None, mfa=True)
        with_mfa = visible(runtime_db, trails)
    with runtime_db.transaction():
        bind(runtime_db, user_id=ADMIN, venue_id=None, mfa=False)
        without = visible(runtime_db, trails)

    assert with_mfa == {"venue", "other venue", "platform"}
    assert without == set()


def test_a_venue_route_never_widens_to_other_venues_for_a_platform_admin(
    runtime_db: psycopg.Connection, bind: Bind, trails: Trails
) -> None:
    """Given the platform admin with a venue bound (the override of a venue route), when they
    read the trail, then only that venue's row is visible."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=ADMIN, venue_id=trails.venue, mfa=True)
        seen = visible(runtime_db, trails)

    assert seen == {"venue"}


def test_nobody_else_reads_the_platform_trail(
    runtime_db: psycopg.Connection, bind: Bind, trails: Trails
) -> None:
    """Given a venue's manager bound to no venue (an account route), when they read the
    trail, then nothing is visible."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=trails.manager, venue_id=None, mfa=True)
        seen = visible(runtime_db, trails)

    assert seen == set()


PLATFORM_EVENT = (
    "INSERT INTO audit_outbox (id, venue_id, actor_user_id, action, target_type, critical)"
    " VALUES (%s, NULL, %s, 'platform_admin.audit_read', 'audit_log', true)"
)


@pytest.mark.parametrize(
    ("who", "actor", "mfa", "allowed"),
    [
        ("the admin, as themself", "self", True, True),
        ("the admin, naming another actor", "other", True, False),
        ("the admin without a second factor", "self", False, False),
        ("a venue manager", "self", True, False),
    ],
)
def test_only_a_platform_admin_writes_their_own_platform_level_event(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    bind: Bind,
    trails: Trails,
    who: str,
    actor: str,
    mfa: bool,
    allowed: bool,
) -> None:
    """Given the venue role bound to no venue, when a platform-level audit event is
    inserted, then only the platform admin, with a second factor, naming themself as the
    actor, may insert it; every other attempt is refused."""
    user = ADMIN if who.startswith("the admin") else trails.manager
    event_id = uuid.uuid4()
    named = user if actor == "self" else trails.manager

    def insert() -> None:
        with runtime_db.transaction():
            bind(runtime_db, user_id=user, venue_id=None, mfa=mfa)
            runtime_db.execute(PLATFORM_EVENT, (event_id, named))

    if allowed:
        insert()
    else:
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            insert()
    stored = admin_db.execute("SELECT count(*) FROM audit_outbox WHERE id = %s", (event_id,))
    assert stored.fetchone() == ((1,) if allowed else (0,))


@pytest.mark.parametrize("required", [-1, -2, -2048])
def test_negative_questions_other_than_minus_one_are_refused(
    runtime_db: psycopg.Connection, bind: Bind, required: int
) -> None:
    """Given the platform admin with a second factor, binding_allows(-1) is true and any
    other negative value is false."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=ADMIN, venue_id=None, mfa=True)
        row = runtime_db.execute("SELECT app.binding_allows(%s)", (required,)).fetchone()

    assert row == (required == -1,)


def test_a_till_session_is_never_a_platform_admin(
    runtime_db: psycopg.Connection,
    admin_db: psycopg.Connection,
    database: postgres.Database,
    trails: Trails,
) -> None:
    """Given an owner's till session at centrale, bound as the gate binds it (no user), when
    it asks for the platform admin's read, then binding_allows(-1) is false and no row of the
    trails is visible."""
    staff_id = admin_db.execute(
        "INSERT INTO staff_members (venue_id, display_name, role)"
        " VALUES (%s, 'Till owner', 'owner') RETURNING id",
        (CENTRALE,),
    ).fetchone()
    assert staff_id is not None
    session_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO till_sessions (id, venue_id, client_id, staff_member_id, idle_seconds,"
        " expires_at) VALUES (%s, %s, %s, %s, 1800, now() + interval '12 hours')",
        (session_id, CENTRALE, TILL_CLIENT_ID, staff_id[0]),
    )
    key = BindingKey.from_setting(database.binding_key)

    with runtime_db.transaction():
        bindings = key.bind(user_id=None, session_id=session_id, venue_id=CENTRALE, mfa=True)
        runtime_db.execute(bindings.SQL, bindings.as_params())
        asked = runtime_db.execute(
            "SELECT app.binding_allows(NULL), app.binding_allows(-1)"
        ).fetchone()
        seen = visible(runtime_db, trails)

    assert asked == (True, False)
    assert seen == set()
