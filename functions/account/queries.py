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


# Attached venues (row-level security shows a person their own attachments), and for a
# platform admin every other venue, marked as reached through the flag. One statement, so
# the switcher is one round trip with the gate.
VENUE_CHOICES = """
SELECT v.id, v.name, v.slug, g.id AS group_id, g.name AS group_name,
       a.role, a.permissions, false AS via_platform_admin
FROM venue_attachments a
JOIN venues v ON v.id = a.venue_id
JOIN venue_groups g ON g.id = v.group_id
WHERE a.user_id = %(user)s
UNION ALL
SELECT v.id, v.name, v.slug, g.id, g.name, 'platform_admin', %(all_flags)s, true
FROM venues v JOIN venue_groups g ON g.id = v.group_id
WHERE EXISTS (SELECT 1 FROM users u WHERE u.id = %(user)s AND u.is_platform_admin)
  AND NOT EXISTS (SELECT 1 FROM venue_attachments a
                  WHERE a.venue_id = v.id AND a.user_id = %(user)s)
ORDER BY group_name, name
"""


def venue_choices(
    conn: psycopg.Connection, user_id: uuid.UUID, all_flags: int
) -> list[dict[str, Any]]:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(VENUE_CHOICES, {"user": user_id, "all_flags": all_flags})
        .fetchall()
    )
