"""SQL of the venues area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row


def venue_profile(conn: psycopg.Connection, venue_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            """
        SELECT v.id, v.name, v.slug, v.timezone, v.currency, g.id AS group_id, g.name AS group_name
        FROM venues v JOIN venue_groups g ON g.id = v.group_id
        WHERE v.id = %s
        """,
            (venue_id,),
        )
        .fetchone()
    )
