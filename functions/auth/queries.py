"""SQL of the issuer. Secrets are looked up by their SHA-256, never stored in the clear."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg import sql
from psycopg.rows import dict_row

from tenancy.permissions import Permission


def _one(conn: psycopg.Connection, sql: str, params: Any) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()


# --- clients and users --------------------------------------------------------------------


def client(conn: psycopg.Connection, client_id: str) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT client_id, kind, redirect_uris, secret_hash FROM oauth_clients"
        " WHERE client_id = %s AND disabled_at IS NULL",
        (client_id,),
    )


def user_by_email(conn: psycopg.Connection, email: str) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT id, email, password_hash, disabled_at, is_platform_admin FROM users"
        " WHERE email = %s",
        (email,),
    )


def user_by_id(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT id, email, password_hash, disabled_at, is_platform_admin FROM users WHERE id = %s",
        (user_id,),
    )


def set_password_hash(conn: psycopg.Connection, user_id: uuid.UUID, password_hash: str) -> None:
    conn.execute(
        "UPDATE users SET password_hash = %s, password_changed_at = now() WHERE id = %s",
        (password_hash, user_id),
    )


def attachment_flags(
    conn: psycopg.Connection, user_id: uuid.UUID
) -> list[tuple[uuid.UUID, str, Permission]]:
    """(venue, role, flags) of every attachment (the issuer's role reads them all)."""
    rows = conn.execute(
        "SELECT venue_id, role, permissions FROM venue_attachments WHERE user_id = %s",
        (user_id,),
    ).fetchall()
    return [(venue, role, Permission(flags)) for venue, role, flags in rows]


def holds_role_at_venue_requiring_mfa(
    conn: psycopg.Connection, user_id: uuid.UUID, roles: Collection[str]
) -> bool:
    """Whether the person holds one of ``roles`` at a venue whose require_mfa_for_admins
    setting is on: one statement, however many venues."""
    row = conn.execute(
        "SELECT EXISTS (SELECT 1 FROM venue_attachments a"
        " JOIN venue_settings s ON s.venue_id = a.venue_id"
        " WHERE a.user_id = %s AND a.role = ANY(%s) AND s.require_mfa_for_admins)",
        (user_id, sorted(roles)),
    ).fetchone()
    return bool(row and row[0])


# --- brute-force counters ----------------------------------------------------------------


def lock_throttle_keys(conn: psycopg.Connection, *keys: str) -> None:
    """Serialise attempts on the same identifier or IP until this transaction ends, so
    parallel attempts are counted exactly. Always in the order given (identifier first)."""
    for key in keys:
        conn.execute("SELECT pg_advisory_xact_lock(hashtextextended(%s, 7))", (key,))


def failures_in_window(
    conn: psycopg.Connection, scope: str, key: str, window_seconds: int
) -> tuple[int, dt.datetime | None]:
    """How many failures in the window, and when the oldest of them happened."""
    row = conn.execute(
        "SELECT count(*), min(failed_at) FROM sign_in_failures"
        " WHERE scope = %s AND key = %s AND failed_at > now() - make_interval(secs => %s)",
        (scope, key, window_seconds),
    ).fetchone()
    assert row is not None
    return int(row[0]), row[1]


def record_failure(conn: psycopg.Connection, scope: str, key: str) -> None:
    conn.execute("INSERT INTO sign_in_failures (scope, key) VALUES (%s, %s)", (scope, key))


def clear_failures(conn: psycopg.Connection, scope: str, key: str) -> None:
    conn.execute("DELETE FROM sign_in_failures WHERE scope = %s AND key = %s", (scope, key))


def database_now(conn: psycopg.Connection) -> dt.datetime:
    row = conn.execute("SELECT now()").fetchone()
    assert row is not None
    value: dt.datetime = row[0]
    return value


# --- one-time codes, MFA challenges, refresh tokens -----------------------------------------


@dataclass(frozen=True)
class PendingGrant:
    """What a sign-in in progress will authorize: the same for a one-time code and for an
    MFA challenge that becomes one, with how the person has signed in so far."""

    client_id: str
    user_id: uuid.UUID
    redirect_uri: str
    code_challenge: str
    scope: str
    #: RFC 8176 methods proven so far ("pwd", then "otp").
    amr: tuple[str, ...]
    acr: str
    #: When the last of them was proven; None: now (the database's clock).
    auth_time: dt.datetime | None = None


def _insert_pending(
    conn: psycopg.Connection,
    table: str,
    key_column: str,
    key: bytes,
    grant: PendingGrant,
    seconds: int,
) -> None:
    conn.execute(
        sql.SQL(
            "INSERT INTO {} ({}, client_id, user_id, redirect_uri, code_challenge, scope,"
            " amr, acr, auth_time, expires_at) VALUES (%s, %s, %s, %s, %s, %s, %s, %s,"
            " coalesce(%s, now()), now() + make_interval(secs => %s))"
        ).format(sql.Identifier(table), sql.Identifier(key_column)),
        (
            key,
            grant.client_id,
            grant.user_id,
            grant.redirect_uri,
            grant.code_challenge,
            grant.scope,
            list(grant.amr),
            grant.acr,
            grant.auth_time,
            seconds,
        ),
    )


def insert_authorization_code(
    conn: psycopg.Connection, code_hash: bytes, grant: PendingGrant, seconds: int
) -> None:
    _insert_pending(conn, "authorization_codes", "code_hash", code_hash, grant, seconds)


def take_authorization_code(conn: psycopg.Connection, code_hash: bytes) -> dict[str, Any] | None:
    """The code's row, locked, with whether it was already used or has expired; marks it
    used either way, so a code is good for one exchange attempt only. ``session_id`` is the
    session its first exchange opened, if that exchange succeeded."""
    return _one(
        conn,
        """
        WITH code AS (
            SELECT * FROM authorization_codes WHERE code_hash = %s FOR UPDATE
        ), marked AS (
            UPDATE authorization_codes a SET used_at = coalesce(a.used_at, now())
            FROM code WHERE a.code_hash = code.code_hash
        )
        SELECT code.client_id, code.user_id, code.redirect_uri, code.code_challenge, code.scope,
               code.amr, code.acr, code.auth_time, code.session_id,
               code.used_at IS NOT NULL AS already_used, code.expires_at <= now() AS expired
        FROM code
        """,
        (code_hash,),
    )


def record_code_session(conn: psycopg.Connection, code_hash: bytes, session_id: uuid.UUID) -> None:
    conn.execute(
        "UPDATE authorization_codes SET session_id = %s WHERE code_hash = %s",
        (session_id, code_hash),
    )


def insert_mfa_challenge(
    conn: psycopg.Connection, token_hash: bytes, grant: PendingGrant, seconds: int
) -> None:
    _insert_pending(conn, "mfa_challenges", "token_hash", token_hash, grant, seconds)


def open_mfa_challenge(conn: psycopg.Connection, token_hash: bytes) -> PendingGrant | None:
    row = _one(
        conn,
        "SELECT client_id, user_id, redirect_uri, code_challenge, scope, amr, acr, auth_time"
        " FROM mfa_challenges"
        " WHERE token_hash = %s AND used_at IS NULL AND expires_at > now() FOR UPDATE",
        (token_hash,),
    )
    return None if row is None else PendingGrant(**row | {"amr": tuple(row["amr"])})


def close_mfa_challenge(conn: psycopg.Connection, token_hash: bytes) -> None:
    conn.execute("UPDATE mfa_challenges SET used_at = now() WHERE token_hash = %s", (token_hash,))


def insert_refresh_token(
    conn: psycopg.Connection,
    *,
    token_hash: bytes,
    family_id: uuid.UUID,
    user_id: uuid.UUID,
    client_id: str,
    scope: str,
    days: int,
) -> None:
    """A refresh token of the session ``family_id``: it lives ``days``, and never beyond the
    session's own end."""
    conn.execute(
        "INSERT INTO refresh_tokens (token_hash, family_id, user_id, client_id, scope,"
        " expires_at) SELECT %s, s.id, %s, %s, %s,"
        " least(now() + make_interval(days => %s), s.expires_at)"
        " FROM auth_sessions s WHERE s.id = %s",
        (token_hash, user_id, client_id, scope, days, family_id),
    )


def take_refresh_token(conn: psycopg.Connection, token_hash: bytes) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT r.family_id, r.user_id, r.client_id, r.scope, s.amr, s.acr, s.auth_time,"
        " r.used_at IS NOT NULL AS already_used,"
        " r.revoked_at IS NOT NULL OR s.revoked_at IS NOT NULL AS revoked,"
        " r.expires_at <= now() OR s.expires_at <= now() AS expired"
        " FROM refresh_tokens r JOIN auth_sessions s ON s.id = r.family_id"
        " WHERE r.token_hash = %s FOR UPDATE OF r",
        (token_hash,),
    )


def insert_session(
    conn: psycopg.Connection,
    *,
    session_id: uuid.UUID,
    user_id: uuid.UUID,
    client_id: str,
    amr: list[str],
    acr: str,
    auth_time: dt.datetime,
    days: int,
) -> None:
    """A sign-in session; it ends ``days`` from now, however often it is refreshed."""
    conn.execute(
        "INSERT INTO auth_sessions (id, user_id, client_id, amr, acr, auth_time, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, now() + make_interval(days => %s))",
        (session_id, user_id, client_id, amr, acr, auth_time, days),
    )


def mark_refresh_token_used(conn: psycopg.Connection, token_hash: bytes) -> None:
    conn.execute("UPDATE refresh_tokens SET used_at = now() WHERE token_hash = %s", (token_hash,))


def revoke_family(conn: psycopg.Connection, family_id: uuid.UUID) -> bool:
    """End the session: its refresh tokens, and (through the gate) its access tokens. True
    when it was still live."""
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now() WHERE family_id = %s AND revoked_at IS NULL",
        (family_id,),
    )
    revoked = conn.execute(
        "UPDATE auth_sessions SET revoked_at = now() WHERE id = %s AND revoked_at IS NULL"
        " RETURNING 1",
        (family_id,),
    ).fetchall()
    return bool(revoked)


def revoke_user_families(
    conn: psycopg.Connection, user_id: uuid.UUID, *, except_family: uuid.UUID | None
) -> int:
    # RETURNING, not rowcount: the account routes run in pipeline mode.
    conn.execute(
        "UPDATE refresh_tokens SET revoked_at = now()"
        " WHERE user_id = %s AND revoked_at IS NULL AND family_id IS DISTINCT FROM %s",
        (user_id, except_family),
    )
    revoked = conn.execute(
        "UPDATE auth_sessions SET revoked_at = now()"
        " WHERE user_id = %s AND revoked_at IS NULL AND id IS DISTINCT FROM %s"
        " RETURNING 1",
        (user_id, except_family),
    ).fetchall()
    return len(revoked)


# --- TOTP and recovery codes -------------------------------------------------------------


def totp(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT secret_sealed, confirmed_at, last_used_step FROM user_totp WHERE user_id = %s"
        " FOR UPDATE",
        (user_id,),
    )


def put_unconfirmed_totp(conn: psycopg.Connection, user_id: uuid.UUID, sealed: str) -> None:
    conn.execute(
        "INSERT INTO user_totp (user_id, secret_sealed) VALUES (%s, %s)"
        " ON CONFLICT (user_id) DO UPDATE SET secret_sealed = EXCLUDED.secret_sealed,"
        " confirmed_at = NULL, last_used_step = NULL",
        (user_id, sealed),
    )


def confirm_totp(conn: psycopg.Connection, user_id: uuid.UUID, step: int) -> None:
    conn.execute(
        "UPDATE user_totp SET confirmed_at = now(), last_used_step = %s WHERE user_id = %s",
        (step, user_id),
    )


def use_totp_step(conn: psycopg.Connection, user_id: uuid.UUID, step: int) -> None:
    conn.execute("UPDATE user_totp SET last_used_step = %s WHERE user_id = %s", (step, user_id))


def replace_recovery_codes(
    conn: psycopg.Connection, user_id: uuid.UUID, code_hashes: list[str]
) -> None:
    conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = %s", (user_id,))
    with conn.cursor() as cursor:
        cursor.executemany(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (%s, %s)",
            [(user_id, code_hash) for code_hash in code_hashes],
        )


def use_recovery_code(conn: psycopg.Connection, user_id: uuid.UUID, code_hash: str) -> bool:
    used = conn.execute(
        "UPDATE mfa_recovery_codes SET used_at = now()"
        " WHERE user_id = %s AND code_hash = %s AND used_at IS NULL RETURNING 1",
        (user_id, code_hash),
    ).fetchone()
    return used is not None


def remove_totp(conn: psycopg.Connection, user_id: uuid.UUID) -> None:
    conn.execute("DELETE FROM mfa_recovery_codes WHERE user_id = %s", (user_id,))
    conn.execute("DELETE FROM user_totp WHERE user_id = %s", (user_id,))


# --- till sessions --------------------------------------------------------------------------

# Where a PIN attempt on a till stands, in one statement sent with the gate's: the device's
# wrong PINs in the window (and when the oldest of them happened), the database's clock, and
# the staff of the venue whose PIN digest this is (under any pepper key) and who may still use
# it: no account, or an enabled account attached to the venue.
TILL_PIN_ATTEMPT = """
SELECT f.failures, f.oldest, now() AS now,
       coalesce(array_agg(m.id) FILTER (WHERE m.id IS NOT NULL), '{}') AS staff_ids,
       coalesce(array_agg(m.display_name) FILTER (WHERE m.id IS NOT NULL), '{}') AS names,
       coalesce(array_agg(m.role) FILTER (WHERE m.id IS NOT NULL), '{}') AS roles,
       coalesce(array_agg(m.user_id) FILTER (WHERE m.id IS NOT NULL), '{}') AS user_ids
FROM (SELECT count(*) AS failures, min(failed_at) AS oldest
      FROM sign_in_failures
      WHERE scope = 'till' AND key = %(client)s
        AND failed_at > now() - make_interval(secs => %(window)s)) f
LEFT JOIN (
    staff_pins p
    JOIN staff_members m ON m.id = p.staff_member_id AND m.venue_id = p.venue_id
    LEFT JOIN users u ON u.id = m.user_id
    LEFT JOIN venue_attachments a ON a.venue_id = m.venue_id AND a.user_id = m.user_id
) ON p.venue_id = %(venue)s
     AND (p.key_id, p.pin_hmac) IN (SELECT * FROM unnest(%(keys)s::text[], %(digests)s::bytea[]))
     AND (m.user_id IS NULL OR (u.disabled_at IS NULL AND a.user_id IS NOT NULL))
GROUP BY f.failures, f.oldest
"""


def till_pin_attempt(
    conn: psycopg.Connection,
    *,
    client_id: str,
    venue_id: uuid.UUID,
    keys: list[str],
    digests: list[bytes],
    window_seconds: int,
) -> dict[str, Any]:
    row = _one(
        conn,
        TILL_PIN_ATTEMPT,
        {
            "client": client_id,
            "venue": venue_id,
            "keys": keys,
            "digests": digests,
            "window": window_seconds,
        },
    )
    assert row is not None
    return row


def end_device_till_sessions(conn: psycopg.Connection, client_id: str) -> None:
    """A till serves one person at a time: opening a session ends the device's others."""
    conn.execute(
        "UPDATE till_sessions SET ended_at = now() WHERE client_id = %s AND ended_at IS NULL",
        (client_id,),
    )


def insert_till_session(
    conn: psycopg.Connection,
    *,
    session_id: uuid.UUID,
    venue_id: uuid.UUID,
    client_id: str,
    staff_member_id: uuid.UUID,
    idle_seconds: int,
    expires_at: dt.datetime,
) -> None:
    conn.execute(
        "INSERT INTO till_sessions (id, venue_id, client_id, staff_member_id, idle_seconds,"
        " expires_at) VALUES (%s, %s, %s, %s, %s, %s)",
        (session_id, venue_id, client_id, staff_member_id, idle_seconds, expires_at),
    )
