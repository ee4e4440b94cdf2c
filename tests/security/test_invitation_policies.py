"""The policies of migration 0018 as the last line: a venue's invitations are its managers'
alone (read, invite, cancel; never consume), and the issuer may attach an account, and write
a venue's event, only as an invitation it accepted in the same transaction says."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable

import psycopg
from psycopg.types.json import Jsonb

from tenancy.permissions import ROLE_DEFAULTS, Role
from tests.conftest import Bind
from tests.support.demo_users import attach, new_user
from tests.support.people import PeopleVenue, people_venue


def outcome(conn: psycopg.Connection, write: Callable[[], object]) -> object:
    """What a statement did inside a rolled-back transaction: its rows, or 'refused'."""
    try:
        with conn.transaction(force_rollback=True):
            return write()
    except psycopg.errors.InsufficientPrivilege:
        return "refused"


def invitation(admin_db: psycopg.Connection, venue: PeopleVenue, role: Role) -> uuid.UUID:
    """An open invitation at the venue, as its manager would have sent it."""
    invitation_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO venue_invitations (id, venue_id, email, role, permissions, token_hash,"
        " invited_by, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, now() + interval '1 day')",
        (
            invitation_id,
            venue.venue_id,
            f"{invitation_id.hex[:12]}@invited.example",
            role.value,
            int(ROLE_DEFAULTS[role]),
            hashlib.sha256(invitation_id.bytes).digest(),
            venue.manager,
        ),
    )
    return invitation_id


def test_only_the_venues_managers_read_invite_and_cancel_and_nobody_consumes(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given an open invitation at a venue, when the venue role is bound for its manager,
    for its waiter, and for another venue's manager (at their venue and at this one), then
    only the manager reads it, invites (as themselves only) and cancels it; nobody, not even
    the manager, marks it accepted."""
    venue = people_venue(admin_db)
    other = people_venue(admin_db)
    waiter = new_user(admin_db, "Waiter")
    attach(admin_db, waiter, venue.venue_id, Role.WAITER)
    invitation_id = invitation(admin_db, venue, Role.WAITER)

    def as_(user: uuid.UUID, at: uuid.UUID, statement: str, *params: object) -> object:
        def attempt() -> object:
            bind(runtime_db, user_id=user, venue_id=at)
            return runtime_db.execute(statement, params).fetchall()

        return outcome(runtime_db, attempt)

    read = "SELECT id FROM venue_invitations WHERE id = %s"
    cancel = "DELETE FROM venue_invitations WHERE id = %s RETURNING 1"
    consume = "UPDATE venue_invitations SET accepted_at = now() WHERE id = %s RETURNING 1"
    invite = (
        "INSERT INTO venue_invitations (id, venue_id, email, role, permissions, token_hash,"
        " invited_by, expires_at) VALUES (gen_random_uuid(), %s, %s, 'casual', 1, %s, %s,"
        " now() + interval '1 day') RETURNING 1"
    )

    def new_invite(user: uuid.UUID, signed_by: uuid.UUID, at: uuid.UUID) -> object:
        token_hash = hashlib.sha256(uuid.uuid4().bytes).digest()
        return as_(
            user, at, invite, at, f"{uuid.uuid4().hex[:12]}@x.example", token_hash, signed_by
        )

    assert as_(venue.manager, venue.venue_id, read, invitation_id) == [(invitation_id,)]
    assert as_(waiter, venue.venue_id, read, invitation_id) == []
    assert as_(other.manager, other.venue_id, read, invitation_id) == []
    assert as_(other.manager, venue.venue_id, read, invitation_id) == []
    assert new_invite(venue.manager, venue.manager, venue.venue_id) == [(1,)]
    assert new_invite(venue.manager, venue.owner, venue.venue_id) == "refused"
    assert new_invite(waiter, waiter, venue.venue_id) == "refused"
    assert new_invite(other.manager, other.manager, venue.venue_id) == "refused"
    assert as_(venue.manager, venue.venue_id, cancel, invitation_id) == [(1,)]
    assert as_(waiter, venue.venue_id, cancel, invitation_id) == []
    assert as_(other.manager, venue.venue_id, cancel, invitation_id) == []
    assert as_(venue.manager, venue.venue_id, consume, invitation_id) == "refused"


def test_the_issuer_attaches_only_what_an_invitation_it_just_accepted_says(
    issuer_db: psycopg.Connection, admin_db: psycopg.Connection
) -> None:
    """Given an open invitation as waiter, when the issuer role inserts an attachment or a
    venue's audit event, then without accepting the invitation in the same transaction
    both are refused; once accepted, only the attachment it names (that venue, account,
    role and flags) and only its staff.invitation_accepted event pass."""
    venue = people_venue(admin_db)
    invitation_id = invitation(admin_db, venue, Role.WAITER)
    waiter_flags = int(ROLE_DEFAULTS[Role.WAITER])

    def attempt(accept: bool, role: str, flags: int, action: str) -> object:
        def run() -> object:
            user_id = uuid.uuid4()
            issuer_db.execute(
                "INSERT INTO users (id, email, display_name) VALUES (%s, %s, 'Invited')",
                (user_id, f"{user_id.hex[:12]}@invited.example"),
            )
            if accept:
                issuer_db.execute(
                    "UPDATE venue_invitations SET accepted_at = now(), accepted_user_id = %s"
                    " WHERE id = %s",
                    (user_id, invitation_id),
                )
            issuer_db.execute(
                "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
                " VALUES (%s, %s, %s, %s)",
                (venue.venue_id, user_id, role, flags),
            )
            return issuer_db.execute(
                "INSERT INTO audit_outbox (venue_id, actor_user_id, action, target_type,"
                " details) VALUES (%s, %s, %s, 'user', %s) RETURNING 1",
                (venue.venue_id, user_id, action, Jsonb({})),
            ).fetchall()

        return outcome(issuer_db, run)

    accepted = "staff.invitation_accepted"
    assert attempt(False, "waiter", waiter_flags, accepted) == "refused"
    assert attempt(True, "owner", waiter_flags, accepted) == "refused"
    assert attempt(True, "waiter", waiter_flags | 16, accepted) == "refused"
    assert attempt(True, "waiter", waiter_flags, "staff.attached") == "refused"
    assert attempt(True, "waiter", waiter_flags, accepted) == [(1,)]


def test_the_issuer_creates_accounts_but_never_a_platform_admin_or_a_disabled_one(
    issuer_db: psycopg.Connection,
) -> None:
    """The issuer inserts the columns of a new account, and no other."""

    def insert(extra: str) -> object:
        user_id = uuid.uuid4()
        columns = "id, email, display_name" + (f", {extra}" if extra else "")
        values = "%s, %s, 'New'" + (", true" if extra == "is_platform_admin" else "")
        values += ", now()" if extra == "disabled_at" else ""
        return outcome(
            issuer_db,
            lambda: issuer_db.execute(
                f"INSERT INTO users ({columns}) VALUES ({values}) RETURNING 1",
                (user_id, f"{user_id.hex[:12]}@new.example"),
            ).fetchall(),
        )

    assert insert("") == [(1,)]
    assert insert("is_platform_admin") == "refused"
    assert insert("disabled_at") == "refused"
