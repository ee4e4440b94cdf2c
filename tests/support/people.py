"""A venue of its own with an owner and a manager, made for one test, and what the people
tests compare: the venue's attachments and staff, and the audit events written since."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from tenancy.permissions import Role
from tests.support.demo_users import attach, new_user
from tests.support.second_factor import new_venue

__all__ = ["PeopleVenue", "audit_events", "email_of", "people_at", "people_venue"]


@dataclass(frozen=True)
class PeopleVenue:
    venue_id: uuid.UUID
    owner: uuid.UUID
    manager: uuid.UUID


def people_venue(admin_db: psycopg.Connection) -> PeopleVenue:
    """A venue of a group of its own, its one owner and a manager (role defaults)."""
    venue_id = new_venue(admin_db)
    owner = new_user(admin_db, "Owner")
    attach(admin_db, owner, venue_id, Role.OWNER)
    manager = new_user(admin_db, "Manager")
    attach(admin_db, manager, venue_id, Role.MANAGER)
    return PeopleVenue(venue_id, owner, manager)


def email_of(admin_db: psycopg.Connection, user_id: uuid.UUID) -> str:
    row = admin_db.execute("SELECT email FROM users WHERE id = %s", (user_id,)).fetchone()
    assert row is not None
    email: str = row[0]
    return email


def people_at(admin_db: psycopg.Connection, venue_id: uuid.UUID) -> list[Any]:
    """The venue's attachments and staff, as rows: equal before and after means unchanged."""
    attachments = admin_db.execute(
        "SELECT user_id, role, permissions, created_at FROM venue_attachments"
        " WHERE venue_id = %s ORDER BY user_id",
        (venue_id,),
    ).fetchall()
    staff = admin_db.execute(
        "SELECT to_jsonb(s)::text FROM staff_members s WHERE venue_id = %s ORDER BY id",
        (venue_id,),
    ).fetchall()
    return [attachments, staff]


def audit_events(
    admin_db: psycopg.Connection, *, after: set[uuid.UUID] | None = None, **where: Any
) -> list[dict[str, Any]]:
    """Audit events matching ``where`` (column = value), leaving out the ids in ``after``."""
    conditions = " AND ".join(f"{column} IS NOT DISTINCT FROM %({column})s" for column in where)
    rows = admin_db.execute(
        "SELECT id, venue_id, actor_user_id, action, target_type, target_id, details, critical"
        " FROM audit_outbox" + (f" WHERE {conditions}" if conditions else "") + " ORDER BY id",
        where,
    ).fetchall()
    keys = ("id", "venue_id", "actor_user_id", "action", "target_type", "target_id")
    return [
        dict(zip((*keys, "details", "critical"), row, strict=True))
        for row in rows
        if not after or row[0] not in after
    ]
