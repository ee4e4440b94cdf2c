"""SQL of the issuer. Secrets are looked up by their SHA-256, never stored in the clear."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy.permissions import Permission


def _one(conn: psycopg.Connection, sql: str, params: Any) -> dict[str, Any] | None:
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchone()


Row = Callable[[], "dict[str, Any] | None"]


def _queued(conn: psycopg.Connection, sql: str, params: Any) -> Row:
    """Send ``sql`` now and read its row later: statements queued together travel in one
    round trip (the connections run in pipeline mode)."""
    return conn.cursor(row_factory=dict_row).execute(sql, params).fetchone


# --- clients and users --------------------------------------------------------------------


def client(conn: psycopg.Connection, client_id: str) -> dict[str, Any] | None:
    return _one(
        conn,
        "SELECT client_id, name, kind, redirect_uris, secret_hash FROM oauth_clients"
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


def sign_in_account(conn: psycopg.Connection, email: str, mfa_roles: Collection[str]) -> Row:
    """Queued: the account of ``email`` as the password step needs it, with whether it has a
    confirmed authenticator and whether a policy requires a second factor of it."""
    return _queued(
        conn,
        "SELECT u.id, u.email, u.password_hash, u.disabled_at, u.is_platform_admin,"
        " EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = u.id"
        "         AND t.confirmed_at IS NOT NULL) AS has_totp,"
        " u.is_platform_admin OR EXISTS (SELECT 1 FROM venue_attachments a"
        "         JOIN venue_settings s ON s.venue_id = a.venue_id"
        "         WHERE a.user_id = u.id AND a.role = ANY(%s) AND s.require_mfa_for_admins)"
        "     AS mfa_required"
        " FROM users u WHERE u.email = %s",
        (sorted(mfa_roles), email),
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


def throttle_standing(
    conn: psycopg.Connection, identifier: str, ip: str, window_seconds: int
) -> Row:
    """Queued: the database's time and, for the identifier and for the IP, the failures in
    the window and when the oldest of them was; one statement for both."""
    return _queued(
        conn,
        "SELECT now() AS now,"
        " count(*) FILTER (WHERE scope = 'identifier') AS identifier_count,"
        " min(failed_at) FILTER (WHERE scope = 'identifier') AS identifier_oldest,"
        " count(*) FILTER (WHERE scope = 'ip') AS ip_count,"
        " min(failed_at) FILTER (WHERE scope = 'ip') AS ip_oldest"
        " FROM sign_in_failures"
        " WHERE ((scope = 'identifier' AND key = %(identifier)s)"
        "        OR (scope = 'ip' AND key = %(ip)s))"
        " AND failed_at > now() - make_interval(secs => %(window)s)",
        {"identifier": identifier, "ip": ip, "window": window_seconds},
    )


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


# --- authorization requests in progress on the sign-in pages ------------------------------


@dataclass(frozen=True)
class NewRequest:
    """A client's authorization request, as checked, waiting for the person to sign in."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    state: str
    scope: str
    nonce: str | None


def without_waiting_for_the_flush(conn: psycopg.Connection) -> None:
    """This transaction commits without waiting for its WAL to reach the disk: for a
    sign-in's own progress only (a kept request, a step advanced, a code issued, the
    session a code's exchange opens), which a server crash may lose (the person signs in
    again) but never half-writes. Counted failures, lockouts, audit events, spent second
    factors, refused exchanges, rotated refresh tokens and revocations always wait."""
    conn.execute("SET LOCAL synchronous_commit = off")


def start_authorization_request(
    conn: psycopg.Connection,
    request_id: uuid.UUID,
    request: NewRequest,
    *,
    csrf_hash: bytes,
    browser_hash: bytes,
    seconds: int,
) -> dict[str, Any] | None:
    """Keep the request when its client is a browser client (``spa``) that registered its
    redirect URI, exactly: one statement. The client's name, or None (nothing kept)."""
    return _one(
        conn,
        "WITH client AS ("
        "  SELECT client_id, name FROM oauth_clients"
        "  WHERE client_id = %(client)s AND kind = 'spa' AND disabled_at IS NULL"
        "  AND %(redirect)s = ANY(redirect_uris)"
        "), kept AS ("
        "  INSERT INTO authorization_requests (id, csrf_hash, browser_hash, client_id,"
        "  redirect_uri, code_challenge, state, scope, nonce, expires_at)"
        "  SELECT %(id)s, %(csrf)s, %(browser)s, client_id, %(redirect)s, %(challenge)s,"
        "  %(state)s, %(scope)s, %(nonce)s, now() + make_interval(secs => %(seconds)s)"
        "  FROM client RETURNING 1"
        ") SELECT name FROM client",
        {
            "client": request.client_id,
            "redirect": request.redirect_uri,
            "id": request_id,
            "csrf": csrf_hash,
            "browser": browser_hash,
            "challenge": request.code_challenge,
            "state": request.state,
            "scope": request.scope,
            "nonce": request.nonce,
            "seconds": seconds,
        },
    )


def authorization_request(conn: psycopg.Connection, request_id: uuid.UUID) -> Row:
    """Queued: the request, locked, while it lasts (its client's name with it); None once
    expired."""
    return _queued(
        conn,
        "SELECT r.id, r.csrf_hash, r.browser_hash, r.client_id, c.name AS client_name,"
        " r.redirect_uri, r.code_challenge, r.state, r.scope, r.nonce, r.step, r.user_id,"
        " r.amr, r.acr, r.auth_time"
        " FROM authorization_requests r JOIN oauth_clients c USING (client_id)"
        " WHERE r.id = %s AND r.expires_at > now() FOR UPDATE OF r",
        (request_id,),
    )


def advance_authorization_request(
    conn: psycopg.Connection,
    request_id: uuid.UUID,
    *,
    step: str,
    user_id: uuid.UUID,
    amr: Collection[str],
    acr: str,
) -> None:
    """The request's next step, and how the person has signed in so far (as of now)."""
    conn.execute(
        "UPDATE authorization_requests SET step = %s, user_id = %s, amr = %s, acr = %s,"
        " auth_time = now() WHERE id = %s",
        (step, user_id, list(amr), acr, request_id),
    )


def close_authorization_request(
    conn: psycopg.Connection,
    request_id: uuid.UUID,
    *,
    user_id: uuid.UUID,
    amr: Collection[str],
    acr: str,
    auth_time: dt.datetime | None,
) -> None:
    """A code was issued: the request is done, with who signed in, how and when."""
    conn.execute(
        "UPDATE authorization_requests SET step = 'done', user_id = %s, amr = %s, acr = %s,"
        " auth_time = coalesce(%s, now()) WHERE id = %s",
        (user_id, list(amr), acr, auth_time, request_id),
    )


# --- one-time codes and refresh tokens --------------------------------------------------------


@dataclass(frozen=True)
class PendingGrant:
    """What a one-time code authorizes, with how the person signed in."""

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
    #: OpenID Connect: the request's nonce, repeated in the ID token.
    nonce: str | None = None


def insert_authorization_code(
    conn: psycopg.Connection, code_hash: bytes, grant: PendingGrant, seconds: int
) -> None:
    conn.execute(
        "INSERT INTO authorization_codes (code_hash, client_id, user_id, redirect_uri,"
        " code_challenge, scope, amr, acr, auth_time, nonce, expires_at)"
        " VALUES (%s, %s, %s, %s, %s, %s, %s, %s, coalesce(%s, now()), %s,"
        " now() + make_interval(secs => %s))",
        (
            code_hash,
            grant.client_id,
            grant.user_id,
            grant.redirect_uri,
            grant.code_challenge,
            grant.scope,
            list(grant.amr),
            grant.acr,
            grant.auth_time,
            grant.nonce,
            seconds,
        ),
    )


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
               code.amr, code.acr, code.auth_time, code.nonce, code.session_id,
               code.used_at IS NOT NULL AS already_used, code.expires_at <= now() AS expired,
               u.disabled_at IS NOT NULL AS user_disabled
        FROM code JOIN users u ON u.id = code.user_id
        """,
        (code_hash,),
    )


def record_code_session(conn: psycopg.Connection, code_hash: bytes, session_id: uuid.UUID) -> None:
    conn.execute(
        "UPDATE authorization_codes SET session_id = %s WHERE code_hash = %s",
        (session_id, code_hash),
    )


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


# --- password resets ----------------------------------------------------------------------


def password_resets_in_window(
    conn: psycopg.Connection, identifier_hash: bytes, source_ip: str, window_seconds: int
) -> tuple[int, int, dt.datetime | None]:
    """Reset links asked for in the window, for this address and from this IP, and when the
    oldest of them (either way) was: one statement whether or not an account exists."""
    row = conn.execute(
        "SELECT count(*) FILTER (WHERE identifier_hash = %(id)s),"
        " count(*) FILTER (WHERE source_ip = %(ip)s), min(created_at)"
        " FROM password_resets"
        " WHERE (identifier_hash = %(id)s OR source_ip = %(ip)s)"
        " AND created_at > now() - make_interval(secs => %(window)s)",
        {"id": identifier_hash, "ip": source_ip, "window": window_seconds},
    ).fetchone()
    assert row is not None
    return int(row[0]), int(row[1]), row[2]


def insert_password_reset(
    conn: psycopg.Connection,
    *,
    token_hash: bytes,
    email: str,
    identifier_hash: bytes,
    source_ip: str,
    seconds: int,
) -> uuid.UUID | None:
    """A reset link for the enabled account with ``email``, if there is one (the row is
    written either way, so the throttle counts both); the account's id, or None."""
    row = conn.execute(
        "INSERT INTO password_resets (token_hash, user_id, identifier_hash, source_ip,"
        " expires_at) SELECT %s, (SELECT id FROM users WHERE email = %s AND disabled_at IS NULL),"
        " %s, %s, now() + make_interval(secs => %s) RETURNING user_id",
        (token_hash, email, identifier_hash, source_ip, seconds),
    ).fetchone()
    assert row is not None
    user_id: uuid.UUID | None = row[0]
    return user_id


def open_password_reset(conn: psycopg.Connection, token_hash: bytes) -> dict[str, Any] | None:
    """The account a live, unused reset link is for (locked), or None."""
    return _one(
        conn,
        "SELECT u.id, u.email, u.is_platform_admin FROM password_resets r"
        " JOIN users u ON u.id = r.user_id"
        " WHERE r.token_hash = %s AND r.used_at IS NULL AND r.expires_at > now()"
        " AND u.disabled_at IS NULL FOR UPDATE OF r",
        (token_hash,),
    )


def spend_password_resets(conn: psycopg.Connection, user_id: uuid.UUID) -> None:
    """Every link of the account stops working: the one used, and any other still out."""
    conn.execute(
        "UPDATE password_resets SET used_at = now() WHERE user_id = %s AND used_at IS NULL",
        (user_id,),
    )


def profile(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any] | None:
    return _one(conn, "SELECT email, display_name FROM users WHERE id = %s", (user_id,))


# --- invitations -----------------------------------------------------------------------------

# An open invitation by its token's digest: not accepted (nor cancelled: a cancelled one is
# deleted), not expired; and whether an account has its address by now.
OPEN_INVITATION = """
SELECT i.id, i.venue_id, i.email, i.role, i.permissions,
       EXISTS (SELECT 1 FROM users u WHERE u.email = i.email) AS account_exists
FROM venue_invitations i
WHERE i.token_hash = %s AND i.accepted_at IS NULL AND i.expires_at > now()
"""


def open_invitation(
    conn: psycopg.Connection, token_hash: bytes, *, lock: bool
) -> dict[str, Any] | None:
    """The open invitation of this digest (locked, to accept it), or None."""
    return _one(conn, OPEN_INVITATION + (" FOR UPDATE OF i" if lock else ""), (token_hash,))


def insert_invited_user(
    conn: psycopg.Connection, email: str, display_name: str, password_hash: str
) -> uuid.UUID | None:
    """The invited person's account; None when an account took the address meanwhile."""
    row = conn.execute(
        "INSERT INTO users (id, email, display_name, password_hash, password_changed_at)"
        " VALUES (%s, %s, %s, %s, now()) ON CONFLICT (email) DO NOTHING RETURNING id",
        (uuid.uuid4(), email, display_name, password_hash),
    ).fetchone()
    return None if row is None else row[0]


def accept_invitation(
    conn: psycopg.Connection, invitation_id: uuid.UUID, user_id: uuid.UUID
) -> None:
    """Consume the invitation: its link never works again."""
    conn.execute(
        "UPDATE venue_invitations SET accepted_at = now(), accepted_user_id = %s WHERE id = %s",
        (user_id, invitation_id),
    )


def insert_invited_attachment(
    conn: psycopg.Connection, venue_id: uuid.UUID, user_id: uuid.UUID, role: str, flags: int
) -> None:
    """The attachment the invitation accepted in this transaction names (the database
    allows the issuer no other)."""
    conn.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, %s, %s)",
        (venue_id, user_id, role, flags),
    )


# --- till sessions --------------------------------------------------------------------------

# Where a PIN attempt on a till stands, in one statement sent with the gate's: the device's
# wrong PINs in the window (and when the oldest of them happened), the database's clock, and
# the staff of the venue whose PIN digest this is (under any pepper key) and who may still use
# it: an active member of staff (not deactivated) with no account, or with an enabled account
# attached to the venue. Anyone else's PIN is no one's: refused and counted like a wrong one.
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
                            AND m.deactivated_at IS NULL
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
