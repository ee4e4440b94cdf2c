"""SQL of the account area. Runs inside the gate's transaction (user bound, no venue)."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument, Permission
from tenancy.bindings import PLATFORM_ADMIN
from tenancy.permissions import FLAG_PARAMS


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
# gate. Postgres shapes the whole answer (``VenueChoices``), flag names included, so its
# cost in Python does not grow with the number of venues.
VENUE_CHOICES = """
WITH picked AS (SELECT c.venue_id FROM user_current_venues c WHERE c.user_id = %(user)s),
choices AS (
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
)
SELECT json_build_object('venues', coalesce(json_agg(json_build_object(
    'id', c.id, 'name', c.name, 'slug', c.slug,
    'group_id', c.group_id, 'group_name', c.group_name,
    'role', c.role,
    'permissions', ARRAY(SELECT f.name
                         FROM unnest(%(flag_names)s::text[], %(flag_values)s::bigint[])
                              AS f(name, value)
                         WHERE c.permissions & f.value <> 0 ORDER BY f.value),
    'via_platform_admin', c.via_platform_admin,
    'current', c.current) ORDER BY c.group_name, c.name), '[]'::json))::text
FROM choices c
"""


def venue_choices_json(conn: psycopg.Connection, user_id: uuid.UUID) -> JsonDocument:
    """The switcher as a JSON document shaped like ``VenueChoices``."""
    params = {"user": user_id, "all_flags": int(Permission.all()), **FLAG_PARAMS}
    row = conn.execute(VENUE_CHOICES, params).fetchone()
    assert row is not None
    return JsonDocument(row[0])


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
