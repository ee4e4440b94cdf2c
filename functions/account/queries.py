"""SQL of the account area. Runs inside the gate's transaction (user bound, no venue)."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy.bindings import PLATFORM_ADMIN


def user_profile(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            "SELECT id, email, display_name, is_platform_admin FROM users WHERE id = %s", (user_id,)
        )
        .fetchone()
    )


# Attached venues (row-level security shows a person their own attachments), and for a
# platform admin every other venue, marked as reached through the flag; the one the person
# last picked is marked current. One statement, so the switcher is one round trip with the
# gate.
VENUE_CHOICES = """
WITH picked AS (SELECT c.venue_id FROM user_current_venues c WHERE c.user_id = %(user)s)
SELECT v.id, v.name, v.slug, g.id AS group_id, g.name AS group_name,
       a.role, a.permissions, false AS via_platform_admin,
       v.id IN (SELECT venue_id FROM picked) AS current
FROM venue_attachments a
JOIN venues v ON v.id = a.venue_id
JOIN venue_groups g ON g.id = v.group_id
WHERE a.user_id = %(user)s
UNION ALL
SELECT v.id, v.name, v.slug, g.id, g.name, 'platform_admin', %(all_flags)s, true,
       v.id IN (SELECT venue_id FROM picked)
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


# Whether the caller may pick the venue (attached, or a platform admin with a second factor
# at a venue that exists: the verifier answers that), and what they had picked before,
# locked. Read with the gate's row; the write follows without waiting.
PICK_CONTEXT = """
SELECT EXISTS (SELECT 1 FROM venue_attachments a
               WHERE a.venue_id = %(venue)s AND a.user_id = %(user)s) AS attached,
       app.binding_allows(%(platform_admin)s)
           AND EXISTS (SELECT 1 FROM venues v WHERE v.id = %(venue)s) AS as_platform_admin,
       (SELECT c.venue_id FROM user_current_venues c
        WHERE c.user_id = %(user)s FOR UPDATE) AS previous
"""

PICK = """
INSERT INTO user_current_venues (user_id, venue_id) VALUES (%(user)s, %(venue)s)
ON CONFLICT (user_id) DO UPDATE SET venue_id = EXCLUDED.venue_id, updated_at = now()
"""


def pick_context(
    conn: psycopg.Connection, user_id: uuid.UUID, venue_id: uuid.UUID
) -> dict[str, Any] | None:
    return (
        conn.cursor(row_factory=dict_row)
        .execute(
            PICK_CONTEXT,
            {"user": user_id, "venue": venue_id, "platform_admin": PLATFORM_ADMIN},
        )
        .fetchone()
    )


def pick(conn: psycopg.Connection, user_id: uuid.UUID, venue_id: uuid.UUID) -> None:
    conn.execute(PICK, {"user": user_id, "venue": venue_id})
