"""Accounts made for one test, so their locks, sessions and changes touch nothing else."""

from __future__ import annotations

import uuid

import psycopg

from infra.local.seed import DemoUser
from tenancy.permissions import ROLE_DEFAULTS, Role

__all__ = ["account_id", "attach", "copy_of_demo_user", "new_user"]


def copy_of_demo_user(
    admin_db: psycopg.Connection, original: DemoUser, *, with_attachments: bool
) -> str:
    """A new account with ``original``'s password (and, if asked, attachments), made for one
    test so its locks, sessions and changes touch nothing else. Returns its email."""
    user_id = uuid.uuid4()
    email = f"{user_id.hex[:12]}@io-osteria.example"
    admin_db.execute(
        "INSERT INTO users (id, email, display_name, password_hash)"
        " SELECT %s, %s, 'Copy of ' || display_name, password_hash FROM users WHERE id = %s",
        (user_id, email, original.id),
    )
    if with_attachments:
        admin_db.execute(
            "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
            " SELECT venue_id, %s, role, permissions FROM venue_attachments WHERE user_id = %s",
            (user_id, original.id),
        )
    return email


def new_user(admin_db: psycopg.Connection, display_name: str) -> uuid.UUID:
    """A new account without a password or any venue; its id."""
    user_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, %s)",
        (user_id, f"{user_id.hex}@io-osteria.example", display_name),
    )
    return user_id


def account_id(admin_db: psycopg.Connection, email: str) -> uuid.UUID:
    row = admin_db.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None, f"no account {email}"
    user_id: uuid.UUID = row[0]
    return user_id


def attach(
    admin_db: psycopg.Connection, user_id: uuid.UUID, venue_id: uuid.UUID, role: Role
) -> None:
    """Attach the account to the venue with ``role`` and the role's default flags."""
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, %s, %s)",
        (venue_id, user_id, role.value, int(ROLE_DEFAULTS[role])),
    )
