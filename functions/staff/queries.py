"""SQL of the people area. Runs in the gate's transaction with the venue bound: row-level
security shows this venue's attachments and staff only, and writes them only with
MANAGE_STAFF (docs/database-roles.md).

Reads return a queued cursor: the caller reads it once everything of its first round trip
is queued (the gate decides at that first read). Writes are queued and never awaited: they
commit with the audit event in the request's second round trip."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import ROLE_DEFAULTS, JsonDocument, Permission, Role
from tenancy.permissions import FLAG_PARAMS

# --- attachments ------------------------------------------------------------------------------


def _flag_names(column: str) -> str:
    """The names of the flags set in ``column`` (a bigint of tenancy.Permission), lowest bit
    first."""
    return f"""ARRAY(SELECT f.name
                  FROM unnest(%(flag_names)s::text[], %(flag_values)s::bigint[]) AS f(name, value)
                  WHERE {column} & f.value <> 0 ORDER BY f.value)"""


_ATTACHED = f"""
    SELECT 0 AS k, lower(u.display_name) AS name, u.email, json_build_object(
        'user_id', a.user_id,
        'email', u.email,
        'display_name', u.display_name,
        'role', a.role,
        'permissions', {_flag_names("a.permissions")},
        'account_disabled', u.disabled_at IS NOT NULL,
        'created_at', a.created_at,
        'status', 'attached') AS doc
    FROM venue_attachments a JOIN users u ON u.id = a.user_id
    WHERE a.venue_id = %(venue)s
"""

_INVITED = f"""
    SELECT 1, '', i.email, json_build_object(
        'user_id', NULL,
        'email', i.email,
        'display_name', NULL,
        'role', i.role,
        'permissions', {_flag_names("i.permissions")},
        'account_disabled', false,
        'created_at', i.created_at,
        'status', CASE WHEN i.expires_at > now() THEN 'invited' ELSE 'expired' END,
        'invitation_id', i.id,
        'expires_at', i.expires_at)
    FROM venue_invitations i
    WHERE i.venue_id = %(venue)s AND i.accepted_at IS NULL
"""


def _listing(*parts: str) -> str:
    rows = "UNION ALL".join(parts)
    return f"""
SELECT json_build_object('attachments', coalesce(json_agg(x.doc ORDER BY x.k, x.name, x.email),
                                                 '[]'::json))::text
FROM ({rows}) x
"""


# Postgres builds the whole list as the response (Attachments), flag names included: the
# attached accounts by name, then the open invitations by address.
ATTACHMENTS = _listing(_ATTACHED, _INVITED)
#: The accounts alone: bench/people.py measures what the invitations' half adds.
ATTACHED_ONLY = _listing(_ATTACHED)

# Two attachments of one email at one venue at once (a double click) wait for each other
# here, before the read below takes its snapshot, so the second sees the first and is a
# 409, not a key violation at commit. Same round trip as the read.
SERIALISE_ATTACH = "SELECT pg_advisory_xact_lock(hashtextextended(%(key)s, 0))"

# Always one row: the account with this email (NULLs when there is none), whether it is
# already attached here, the transaction's timestamp (the new attachment's created_at), the
# venue's name (an invitation's mail names it) and the open invitation of this email here,
# which an attachment or a new invitation replaces.
ACCOUNT_TO_ATTACH = """
SELECT u.id AS user_id, u.email, u.display_name,
       coalesce(u.disabled_at IS NOT NULL, false) AS account_disabled,
       EXISTS (SELECT 1 FROM venue_attachments a
               WHERE a.venue_id = %(venue)s AND a.user_id = u.id) AS attached,
       now() AS now,
       (SELECT v.name FROM venues v WHERE v.id = %(venue)s) AS venue_name,
       (SELECT i.id FROM venue_invitations i
        WHERE i.venue_id = %(venue)s AND i.email = %(email)s AND i.accepted_at IS NULL)
           AS pending_invitation
FROM (SELECT 1) AS one LEFT JOIN users u ON u.email = %(email)s
"""

# The attachment, locked, and how many owners the venue has, an owner being the owner role
# with every owner's flag (their rows locked too, so two demotions at once cannot both pass
# the last-owner rule: the second re-reads the first's row and no longer counts it).
ATTACHMENT_FOR_CHANGE = """
SELECT a.role, a.permissions, a.created_at, u.email, u.display_name,
       u.disabled_at IS NOT NULL AS account_disabled,
       (SELECT count(*) FROM (SELECT 1 FROM venue_attachments o
                              WHERE o.venue_id = %(venue)s AND o.role = 'owner'
                                AND o.permissions & %(owner)s = %(owner)s
                              FOR UPDATE) AS owners) AS owners
FROM venue_attachments a JOIN users u ON u.id = a.user_id
WHERE a.venue_id = %(venue)s AND a.user_id = %(user)s
FOR UPDATE OF a
"""

INSERT_ATTACHMENT = """
INSERT INTO venue_attachments (venue_id, user_id, role, permissions)
VALUES (%(venue)s, %(user)s, %(role)s, %(permissions)s)
"""

UPDATE_ATTACHMENT = """
UPDATE venue_attachments SET role = %(role)s, permissions = %(permissions)s
WHERE venue_id = %(venue)s AND user_id = %(user)s
"""

DELETE_ATTACHMENT = """
DELETE FROM venue_attachments WHERE venue_id = %(venue)s AND user_id = %(user)s
"""


# Not locked (the venue role may not update an invitation, so it may not lock one): the
# DELETE that follows removes it only while it is still open.
PENDING_INVITATION = """
SELECT i.id, i.email, i.role, i.permissions
FROM venue_invitations i
WHERE i.venue_id = %(venue)s AND i.id = %(id)s AND i.accepted_at IS NULL
"""


def attachments_json(conn: psycopg.Connection, venue_id: uuid.UUID) -> JsonDocument:
    row = conn.execute(ATTACHMENTS, {"venue": venue_id, **FLAG_PARAMS}).fetchone()
    assert row is not None
    return JsonDocument(row[0])


def account_to_attach(
    conn: psycopg.Connection, venue_id: uuid.UUID, email: str
) -> psycopg.Cursor[dict[str, Any]]:
    conn.execute(SERIALISE_ATTACH, {"key": f"attach:{venue_id}:{email}"})
    return conn.cursor(row_factory=dict_row).execute(
        ACCOUNT_TO_ATTACH, {"venue": venue_id, "email": email}
    )


def attachment_for_change(
    conn: psycopg.Connection, venue_id: uuid.UUID, user_id: uuid.UUID
) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        ATTACHMENT_FOR_CHANGE,
        {"venue": venue_id, "user": user_id, "owner": int(ROLE_DEFAULTS[Role.OWNER])},
    )


def insert_attachment(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    permissions: Permission,
) -> None:
    conn.execute(
        INSERT_ATTACHMENT,
        {"venue": venue_id, "user": user_id, "role": role, "permissions": int(permissions)},
    )


def update_attachment(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    user_id: uuid.UUID,
    role: str,
    permissions: Permission,
) -> None:
    conn.execute(
        UPDATE_ATTACHMENT,
        {"venue": venue_id, "user": user_id, "role": role, "permissions": int(permissions)},
    )


def pending_invitation(
    conn: psycopg.Connection, venue_id: uuid.UUID, invitation_id: uuid.UUID
) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        PENDING_INVITATION, {"venue": venue_id, "id": invitation_id}
    )


def delete_attachment(conn: psycopg.Connection, venue_id: uuid.UUID, user_id: uuid.UUID) -> None:
    conn.execute(DELETE_ATTACHMENT, {"venue": venue_id, "user": user_id})


# --- the staff roster -------------------------------------------------------------------------

STAFF_ROSTER = """
SELECT json_build_object('staff', coalesce(json_agg(json_build_object(
    'id', s.id,
    'display_name', s.display_name,
    'role', s.role,
    'user_id', s.user_id,
    'active', s.deactivated_at IS NULL,
    'created_at', s.created_at) ORDER BY lower(s.display_name), s.id), '[]'::json))::text
FROM staff_members s
WHERE s.venue_id = %(venue)s AND (%(everyone)s OR s.deactivated_at IS NULL)
"""

# Whether the account to link (if any) is attached here, and the transaction's timestamp.
NEW_STAFF_CONTEXT = """
SELECT now() AS now,
       (%(user)s::uuid IS NULL OR EXISTS (SELECT 1 FROM venue_attachments a
                                          WHERE a.venue_id = %(venue)s
                                            AND a.user_id = %(user)s::uuid)) AS user_attached
"""

# The member, locked, and whether the account to link (if any) is attached here.
STAFF_FOR_CHANGE = """
SELECT s.display_name, s.role, s.user_id, s.deactivated_at IS NULL AS active, s.created_at,
       (%(user)s::uuid IS NULL OR EXISTS (SELECT 1 FROM venue_attachments a
                                          WHERE a.venue_id = %(venue)s
                                            AND a.user_id = %(user)s::uuid)) AS user_attached
FROM staff_members s
WHERE s.venue_id = %(venue)s AND s.id = %(staff)s
FOR UPDATE OF s
"""

INSERT_STAFF = """
INSERT INTO staff_members (id, venue_id, user_id, display_name, role)
VALUES (%(id)s, %(venue)s, %(user)s, %(name)s, %(role)s)
"""

UPDATE_STAFF = """
UPDATE staff_members
SET display_name = %(name)s, role = %(role)s, user_id = %(user)s,
    deactivated_at = CASE WHEN %(active)s THEN NULL
                          ELSE coalesce(deactivated_at, now()) END
WHERE venue_id = %(venue)s AND id = %(staff)s
"""


def staff_roster_json(
    conn: psycopg.Connection, venue_id: uuid.UUID, *, everyone: bool
) -> JsonDocument:
    row = conn.execute(STAFF_ROSTER, {"venue": venue_id, "everyone": everyone}).fetchone()
    assert row is not None
    return JsonDocument(row[0])


def new_staff_context(
    conn: psycopg.Connection, venue_id: uuid.UUID, user_id: uuid.UUID | None
) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        NEW_STAFF_CONTEXT, {"venue": venue_id, "user": user_id}
    )


def staff_for_change(
    conn: psycopg.Connection,
    venue_id: uuid.UUID,
    staff_id: uuid.UUID,
    link_user: uuid.UUID | None,
) -> psycopg.Cursor[dict[str, Any]]:
    return conn.cursor(row_factory=dict_row).execute(
        STAFF_FOR_CHANGE, {"venue": venue_id, "staff": staff_id, "user": link_user}
    )


def insert_staff(
    conn: psycopg.Connection,
    *,
    staff_id: uuid.UUID,
    venue_id: uuid.UUID,
    user_id: uuid.UUID | None,
    display_name: str,
    role: str,
) -> None:
    conn.execute(
        INSERT_STAFF,
        {"id": staff_id, "venue": venue_id, "user": user_id, "name": display_name, "role": role},
    )


def update_staff(
    conn: psycopg.Connection,
    *,
    staff_id: uuid.UUID,
    venue_id: uuid.UUID,
    user_id: uuid.UUID | None,
    display_name: str,
    role: str,
    active: bool,
) -> None:
    conn.execute(
        UPDATE_STAFF,
        {
            "staff": staff_id,
            "venue": venue_id,
            "user": user_id,
            "name": display_name,
            "role": role,
            "active": active,
        },
    )
