"""SQL of the account area. Runs inside the gate's transaction (user bound, no venue)."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row


def user_profile(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT id, email, display_name, is_platform_admin FROM users WHERE id = %s", (user_id,)
        )
        .fetchone()
    )


def attached_venues(conn: psycopg.Connection, user_id: uuid.UUID) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """
        SELECT v.id, v.name, v.slug, g.id AS group_id, g.name AS group_name,
               a.role, a.permissions
        FROM venue_attachments a
        JOIN venues v ON v.id = a.venue_id
        JOIN venue_groups g ON g.id = v.group_id
        WHERE a.user_id = %s
        ORDER BY g.name, v.name
        """,
            (user_id,),
        )
        .fetchall()
    )


def all_venues(conn: psycopg.Connection) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """
        SELECT v.id, v.name, v.slug, g.id AS group_id, g.name AS group_name
        FROM venues v JOIN venue_groups g ON g.id = v.group_id
        ORDER BY g.name, v.name
        """
        )
        .fetchall()
    )
