"""SQL of the platform area. Its routes are user routes (no venue bound); what they may do is
asked of the binding verifier itself: ``app.binding_allows(PLATFORM_ADMIN)``, a platform
admin whose session had a second factor. The policies on venue groups, venues and accounts
ask the same (infra/migrations/0007_people.sql), so the database refuses whatever a handler
forgets."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tenancy.bindings import PLATFORM_ADMIN

# Who is asking: allowed into the platform area, or at least holding the flag (then only the
# second factor is missing).
_STANDING = """
SELECT app.binding_allows(%(platform_admin)s) AS allowed,
       coalesce((SELECT u.is_platform_admin FROM users u WHERE u.id = %(actor)s), false)
           AS is_platform_admin
"""

# A read of the platform area in one statement and one round trip: the standing, the
# critical audit event of this use (or of its refusal), and the document, built only when
# allowed. The event is written here, in SQL, because a read route's transaction ends with
# its first result; its details are fixed keys (route, correlation id, query), no secrets.
_READ = """
WITH standing AS ({standing}),
event AS (
    INSERT INTO audit_outbox
        (id, venue_id, actor_user_id, action, target_type, target_id, details, critical)
    SELECT %(event)s, NULL, %(actor)s,
           CASE WHEN s.allowed THEN %(action)s ELSE 'platform.access_refused' END,
           'platform', %(route)s, %(details)s, true
    FROM standing s
)
SELECT s.allowed, s.is_platform_admin, CASE WHEN s.allowed THEN ({document}) END AS document
FROM standing s
"""

VENUES_DOCUMENT = """
SELECT json_build_object('venues', coalesce(json_agg(json_build_object(
    'id', v.id, 'name', v.name, 'slug', v.slug, 'group_id', g.id, 'group_name', g.name,
    'timezone', v.timezone, 'currency', v.currency, 'created_at', v.created_at)
    ORDER BY g.name, v.name, v.id), '[]'::json))::text
FROM venues v JOIN venue_groups g ON g.id = v.group_id
"""

USERS_DOCUMENT = """
SELECT json_build_object('users', coalesce(json_agg(json_build_object(
    'id', u.id, 'email', u.email, 'display_name', u.display_name,
    'is_platform_admin', u.is_platform_admin, 'disabled', u.disabled_at IS NOT NULL,
    'created_at', u.created_at) ORDER BY u.email), '[]'::json))::text
FROM (SELECT u.id, u.email, u.display_name, u.is_platform_admin, u.disabled_at, u.created_at
      FROM users u
      WHERE %(after)s::text IS NULL OR u.email > %(after)s::text
      ORDER BY u.email LIMIT %(limit)s) AS u
"""

LIST_VENUES = _READ.format(standing=_STANDING, document=VENUES_DOCUMENT)
LIST_USERS = _READ.format(standing=_STANDING, document=USERS_DOCUMENT)

GROUP_CONTEXT = _STANDING + ", now() AS now"

# Two venues with one slug at once wait for each other here, before the read below takes its
# snapshot, so the second is a 409, not a key violation at commit.
SERIALISE_SLUG = "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))"

# Everything a new venue needs checked, in one read: the group, the slug, the time zone and
# the first owner's account (NULLs when no account has that email).
VENUE_CONTEXT = (
    _STANDING
    + """,
       now() AS now,
       EXISTS (SELECT 1 FROM venue_groups g WHERE g.id = %(group)s) AS group_exists,
       EXISTS (SELECT 1 FROM venues v WHERE v.slug = %(slug)s) AS slug_taken,
       EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names z WHERE z.name = %(timezone)s)
           AS timezone_known,
       o.id AS owner_id, o.email AS owner_email, o.display_name AS owner_display_name
FROM (SELECT 1) AS one LEFT JOIN users o ON o.email = %(owner_email)s
"""
)

# The account, locked (only a platform admin's bindings see it for update).
ACCOUNT_CONTEXT = (
    _STANDING
    + """,
       t.id, t.email, t.display_name, t.is_platform_admin AS target_is_platform_admin,
       t.disabled_at IS NOT NULL AS disabled, t.created_at
FROM (SELECT 1) AS one
LEFT JOIN LATERAL (SELECT u.id, u.email, u.display_name, u.is_platform_admin, u.disabled_at,
                          u.created_at
                   FROM users u WHERE u.id = %(target)s FOR UPDATE) AS t ON true
"""
)

INSERT_GROUP = "INSERT INTO venue_groups (id, name, created_by) VALUES (%s, %s, %s)"
INSERT_VENUE = """
INSERT INTO venues (id, group_id, name, slug, timezone, currency, created_by)
VALUES (%(id)s, %(group)s, %(name)s, %(slug)s, %(timezone)s, %(currency)s, %(actor)s)
"""
INSERT_SETTINGS = "INSERT INTO venue_settings (venue_id) VALUES (%s)"
INSERT_OWNER = """
INSERT INTO venue_attachments (venue_id, user_id, role, permissions)
VALUES (%s, %s, 'owner', %s)
"""
SET_DISABLED = """
UPDATE users SET disabled_at = CASE WHEN %(disabled)s THEN coalesce(disabled_at, now()) END
WHERE id = %(user)s
"""


def _one(conn: psycopg.Connection, sql: str, params: dict[str, Any]) -> dict[str, Any]:
    row = conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()
    assert row is not None
    return row


def read(
    conn: psycopg.Connection,
    statement: str,
    *,
    actor: uuid.UUID,
    action: str,
    route: str,
    details: dict[str, Any],
    **params: Any,
) -> dict[str, Any]:
    """A platform read (``LIST_VENUES``, ``LIST_USERS``) with its audit event."""
    return _one(
        conn,
        statement,
        {
            "platform_admin": PLATFORM_ADMIN,
            "actor": actor,
            "event": uuid.uuid4(),
            "action": action,
            "route": route,
            "details": Jsonb(details),
            **params,
        },
    )


def context(
    conn: psycopg.Connection, statement: str, *, actor: uuid.UUID, **params: Any
) -> dict[str, Any]:
    """A write's first read (``GROUP_CONTEXT``, ``VENUE_CONTEXT``, ``ACCOUNT_CONTEXT``)."""
    return _one(conn, statement, {"platform_admin": PLATFORM_ADMIN, "actor": actor, **params})
