"""The signed-in account's own credentials: its password and its authenticator app."""

from __future__ import annotations

import uuid

import psycopg

from auth import queries
from auth.checks import (
    Throttle,
    check_second_factor,
    is_privileged,
    locked_account_route,
    mfa_required_by_policy,
)
from auth.config import Issuer
from tenancy.audit import record
from tenancy.problems import Problem


def change_password(
    conn: psycopg.Connection,
    issuer: Issuer,
    *,
    user_id: uuid.UUID,
    is_platform_admin: bool,
    session: uuid.UUID | None,
    current_password: str,
    new_password: str,
    source_ip: str,
) -> int:
    """Set a new password; every other session's refresh tokens stop working. Returns how
    many were revoked."""
    from auth import passwords

    user = queries.user_by_id(conn, user_id)
    assert user is not None
    throttle = Throttle(conn, issuer, user["email"], source_ip, locked=locked_account_route)
    throttle.refuse_if_locked()
    if user["password_hash"] is None or not passwords.verify_password(
        user["password_hash"], current_password
    ):
        throttle.failed(user_id)
        raise Problem(403, "wrong-password", "the current password is not right", keep_writes=True)
    passwords.check_password_policy(
        new_password,
        privileged=is_privileged(conn, user_id, is_platform_admin),
        breaches=issuer.breaches,
    )
    queries.set_password_hash(conn, user_id, passwords.hash_password(new_password))
    revoked = queries.revoke_user_families(conn, user_id, except_family=session)
    record(
        conn,
        action="account.password_changed",
        venue_id=None,
        actor_user_id=user_id,
        target_type="user",
        target_id=user_id,
        details={"other_sessions_revoked": revoked},
    )
    return revoked


def start_totp(
    conn: psycopg.Connection, issuer: Issuer, *, user_id: uuid.UUID, email: str
) -> tuple[str, str]:
    """A new, unconfirmed TOTP secret (sealed at rest) and its otpauth URI."""
    from auth import totp as totp_codes

    existing = queries.totp(conn, user_id)
    if existing is not None and existing["confirmed_at"] is not None:
        raise Problem(409, "mfa-already-enrolled", "a second factor is already set up")
    secret = totp_codes.new_secret()
    sealed = issuer.secrets.seal(secret.encode(), associated_data=user_id.bytes)
    queries.put_unconfirmed_totp(conn, user_id, sealed)
    return secret, totp_codes.provisioning_uri(secret, email)


def confirm_totp(
    conn: psycopg.Connection, issuer: Issuer, *, user_id: uuid.UUID, code: str
) -> list[str]:
    """Turn MFA on with a first valid code; returns the recovery codes, shown once."""
    from auth import totp as totp_codes

    row = queries.totp(conn, user_id)
    if row is None:
        raise Problem(409, "mfa-not-started", "start with POST /me/mfa/totp")
    if row["confirmed_at"] is not None:
        raise Problem(409, "mfa-already-enrolled", "a second factor is already set up")
    secret = issuer.secrets.open(row["secret_sealed"], associated_data=user_id.bytes).decode()
    step = totp_codes.matching_step(secret, code, last_used_step=None)
    if step is None:
        raise Problem(422, "wrong-code", "the code is not right")
    queries.confirm_totp(conn, user_id, step)
    codes = totp_codes.new_recovery_codes()
    queries.replace_recovery_codes(conn, user_id, [totp_codes.hash_recovery_code(c) for c in codes])
    record(
        conn,
        action="account.mfa_enabled",
        venue_id=None,
        actor_user_id=user_id,
        target_type="user",
        target_id=user_id,
    )
    return codes


def remove_totp(
    conn: psycopg.Connection,
    issuer: Issuer,
    *,
    user_id: uuid.UUID,
    code: str,
    source_ip: str,
) -> None:
    """Turn MFA off, proven with a current code: a wrong one counts against the account's
    sign-in throttle, like a wrong code at sign-in. Refused while a policy requires a second
    factor of this account (it is the only one: recovery codes go with it)."""
    user = queries.user_by_id(conn, user_id)
    assert user is not None
    if mfa_required_by_policy(conn, user):
        raise Problem(
            409,
            "mfa-required",
            "platform admins, and the owners and managers of a venue that requires it, must"
            " keep a second factor",
        )
    throttle = Throttle(conn, issuer, user["email"], source_ip, locked=locked_account_route)
    if not check_second_factor(conn, issuer, throttle, user, code=code, recovery_code=None):
        raise Problem(422, "wrong-code", "the code is not right", keep_writes=True)
    queries.remove_totp(conn, user_id)
    record(
        conn,
        action="account.mfa_disabled",
        venue_id=None,
        actor_user_id=user_id,
        target_type="user",
        target_id=user_id,
    )
