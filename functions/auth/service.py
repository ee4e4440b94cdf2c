"""The issuer's rules: sign-in with brute-force limits, MFA, codes, tokens, passwords."""

from __future__ import annotations

import base64
import dataclasses
import datetime as dt
import hashlib
import hmac
import math
import secrets
import uuid
from typing import Any

import psycopg

from auth import queries
from auth.config import Issuer
from auth.models import Authorization, SecondFactor, SignIn, TokenRequest, TokenResponse
from tenancy.audit import record
from tenancy.permissions import ELEVATED, Role
from tenancy.problems import Problem

#: The one answer to a failed sign-in, whatever failed: unknown email, wrong password,
#: disabled account, wrong second factor or a lock. Nothing tells them apart.
GENERIC_REFUSAL = "the email or password is not right"
SCOPE_FULL = "account venue"
SCOPE_ENROL_ONLY = "account mfa-enrolment"
MFA_POLICY_ROLES = frozenset({Role.OWNER.value, Role.MANAGER.value, Role.REGIONAL_MANAGER.value})


def digest(secret: str) -> bytes:
    """Codes and tokens are high-entropy random strings: SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)


def _refuse(detail: str = GENERIC_REFUSAL, **headers: str) -> Problem:
    return Problem(401, "access_denied", detail, headers=headers, keep_writes=True)


def _invalid_grant(detail: str, *, keep_writes: bool = False) -> Problem:
    return Problem(400, "invalid_grant", detail, keep_writes=keep_writes)


# --- brute force ----------------------------------------------------------------------------


class Throttle:
    """Failure limits per identifier and per source IP, independent of each other."""

    def __init__(self, conn: psycopg.Connection, issuer: Issuer, identifier: str, ip: str):
        self.conn = conn
        self.settings = issuer.settings
        self.keys = {"identifier": identifier.strip().lower(), "ip": ip}
        queries.lock_throttle_keys(conn, *(f"{s}:{k}" for s, k in self.keys.items()))

    def _limit(self, scope: str) -> int:
        s = self.settings
        return (
            s.signin_max_failures_per_identifier
            if scope == "identifier"
            else s.signin_max_failures_per_ip
        )

    def refuse_if_locked(self) -> None:
        now = queries.database_now(self.conn)
        for scope, key in self.keys.items():
            count, oldest = queries.failures_in_window(
                self.conn, scope, key, self.settings.signin_window_seconds
            )
            if count >= self._limit(scope) and oldest is not None:
                unlock = oldest + dt.timedelta(seconds=self.settings.signin_window_seconds)
                wait = max(1, math.ceil((unlock - now).total_seconds()))
                raise _refuse(**{"retry-after": str(wait)})

    def failed(self, user_id: uuid.UUID | None) -> None:
        """Count a failure; reaching a limit is a lockout, which is audited."""
        for scope, key in self.keys.items():
            queries.record_failure(self.conn, scope, key)
            count, _ = queries.failures_in_window(
                self.conn, scope, key, self.settings.signin_window_seconds
            )
            if count == self._limit(scope):
                record(
                    self.conn,
                    action="auth.lockout",
                    venue_id=None,
                    actor_user_id=None,
                    target_type="user" if scope == "identifier" and user_id else scope,
                    target_id=user_id if scope == "identifier" and user_id else None,
                    details={"scope": scope, "window_seconds": self.settings.signin_window_seconds}
                    | ({"source_ip": key} if scope == "ip" else {}),
                    critical=True,
                )

    def succeeded(self) -> None:
        queries.clear_failures(self.conn, "identifier", self.keys["identifier"])


# --- sign-in ------------------------------------------------------------------------------


def _spa_client(conn: psycopg.Connection, client_id: str, redirect_uri: str) -> dict[str, Any]:
    client = queries.client(conn, client_id)
    if client is None or client["kind"] != "spa":
        raise Problem(400, "invalid_request", "unknown client")
    if redirect_uri not in client["redirect_uris"]:
        raise Problem(400, "invalid_request", "redirect_uri is not registered for this client")
    return client


def _mfa_required_by_policy(conn: psycopg.Connection, user: dict[str, Any]) -> bool:
    if user["is_platform_admin"]:
        return True
    queries.bind_user(conn, user["id"])
    return any(
        queries.venue_requires_admin_mfa(conn, venue)
        for venue, role, _ in queries.attachment_flags(conn, user["id"])
        if role in MFA_POLICY_ROLES
    )


def _issue_code(
    conn: psycopg.Connection, issuer: Issuer, grant: queries.PendingGrant, state: str | None
) -> Authorization:
    code = new_secret()
    queries.insert_authorization_code(
        conn, digest(code), grant, issuer.settings.authorization_code_seconds
    )
    return Authorization(
        status="authorized", code=code, redirect_uri=grant.redirect_uri, state=state
    )


def sign_in(
    conn: psycopg.Connection, issuer: Issuer, body: SignIn, source_ip: str
) -> Authorization:
    """Credentials in; a one-time code, or an MFA challenge, out."""
    from auth import passwords

    _spa_client(conn, body.client_id, body.redirect_uri)
    throttle = Throttle(conn, issuer, body.email, source_ip)
    throttle.refuse_if_locked()
    user = queries.user_by_email(conn, body.email.strip().lower())
    if user is None or user["password_hash"] is None:
        passwords.verify_against_dummy(body.password)
        throttle.failed(None)
        raise _refuse()
    if not passwords.verify_password(user["password_hash"], body.password) or user["disabled_at"]:
        throttle.failed(user["id"])
        raise _refuse()
    if passwords.needs_rehash(user["password_hash"]):
        queries.set_password_hash(conn, user["id"], passwords.hash_password(body.password))

    grant = queries.PendingGrant(
        client_id=body.client_id,
        user_id=user["id"],
        redirect_uri=body.redirect_uri,
        code_challenge=body.code_challenge,
        scope=SCOPE_FULL,
    )
    totp = queries.totp(conn, user["id"])
    if totp is not None and totp["confirmed_at"] is not None:
        token = new_secret()
        queries.insert_mfa_challenge(
            conn, digest(token), grant, issuer.settings.mfa_challenge_seconds
        )
        return Authorization(
            status="mfa_required",
            mfa_token=token,
            mfa_methods=["totp", "recovery_code"],
            state=body.state,
        )
    # Failures are forgiven only once the whole sign-in succeeds: a right password followed
    # by wrong codes must not reset the count that limits guessing the second factor.
    throttle.succeeded()
    if _mfa_required_by_policy(conn, user):
        grant = dataclasses.replace(grant, scope=SCOPE_ENROL_ONLY)
    return _issue_code(conn, issuer, grant, body.state)


def check_second_factor(
    conn: psycopg.Connection,
    issuer: Issuer,
    user_id: uuid.UUID,
    *,
    code: str | None,
    recovery_code: str | None,
) -> bool:
    """A current, never-used TOTP code or an unused recovery code; spends what it accepts."""
    from auth import totp as totp_codes

    row = queries.totp(conn, user_id)
    if row is None or row["confirmed_at"] is None:
        return False
    if code is not None:
        secret = issuer.secrets.open(row["secret_sealed"], associated_data=user_id.bytes).decode()
        step = totp_codes.matching_step(secret, code, last_used_step=row["last_used_step"])
        if step is None:
            return False
        queries.use_totp_step(conn, user_id, step)
        return True
    if recovery_code is not None:
        return queries.use_recovery_code(
            conn, user_id, totp_codes.hash_recovery_code(recovery_code)
        )
    return False


def second_factor(
    conn: psycopg.Connection, issuer: Issuer, body: SecondFactor, source_ip: str
) -> Authorization:
    if (body.code is None) == (body.recovery_code is None):
        raise Problem(400, "invalid_request", "send either code or recovery_code")
    token_hash = digest(body.mfa_token)
    challenge = queries.open_mfa_challenge(conn, token_hash)
    if challenge is None:
        raise _refuse("this sign-in has expired; start again")
    user = queries.user_by_id(conn, challenge.user_id)
    assert user is not None
    throttle = Throttle(conn, issuer, user["email"], source_ip)
    throttle.refuse_if_locked()
    if user["disabled_at"] or not check_second_factor(
        conn, issuer, user["id"], code=body.code, recovery_code=body.recovery_code
    ):
        throttle.failed(user["id"])
        raise _refuse("the code is not right")
    throttle.succeeded()
    queries.close_mfa_challenge(conn, token_hash)
    return _issue_code(conn, issuer, challenge, body.state)


# --- the token endpoint -------------------------------------------------------------------


def _pkce_matches(verifier: str, challenge: str) -> bool:
    if not 43 <= len(verifier) <= 128:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)


def _tokens_for_user(
    conn: psycopg.Connection,
    issuer: Issuer,
    *,
    user_id: uuid.UUID,
    client_id: str,
    scope: str,
    family_id: uuid.UUID,
    amr: list[str],
) -> TokenResponse:
    refresh = new_secret()
    queries.insert_refresh_token(
        conn,
        token_hash=digest(refresh),
        family_id=family_id,
        user_id=user_id,
        client_id=client_id,
        scope=scope,
        days=issuer.settings.refresh_token_days,
    )
    return TokenResponse(
        access_token=access_token(
            issuer,
            subject=str(user_id),
            client_id=client_id,
            scope=scope,
            session=family_id,
            amr=amr,
        ),
        expires_in=issuer.settings.access_token_seconds,
        scope=scope,
        refresh_token=refresh,
    )


def access_token(
    issuer: Issuer,
    *,
    subject: str,
    client_id: str,
    scope: str,
    session: uuid.UUID | None,
    amr: list[str] | None = None,
) -> str:
    """An RFC 9068 access token; ``sid`` names the refresh-token family it belongs to."""
    import time

    now = int(time.time())
    claims = {
        "iss": issuer.settings.token_issuer,
        "aud": issuer.settings.token_audience,
        "sub": subject,
        "client_id": client_id,
        "scope": scope,
        "iat": now,
        "exp": now + issuer.settings.access_token_seconds,
        "jti": secrets.token_urlsafe(16),
    }
    if session is not None:
        claims["sid"] = str(session)
    if amr is not None:
        claims["amr"] = amr
    return issuer.signer.sign(claims)


def _active_user(conn: psycopg.Connection, user_id: uuid.UUID) -> None:
    user = queries.user_by_id(conn, user_id)
    if user is None or user["disabled_at"] is not None:
        raise _invalid_grant("the account is not active")


def exchange_code(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    if not (form.code and form.code_verifier and form.client_id and form.redirect_uri):
        raise Problem(
            400, "invalid_request", "code, code_verifier, client_id and redirect_uri are required"
        )
    row = queries.take_authorization_code(conn, digest(form.code))
    if row is None:
        raise _invalid_grant("the code is not valid")
    # The code is spent from here on, whatever the outcome.
    if row["already_used"] or row["expired"]:
        raise _invalid_grant("the code is not valid", keep_writes=True)
    if row["client_id"] != form.client_id or row["redirect_uri"] != form.redirect_uri:
        raise _invalid_grant("the code was not issued to this client", keep_writes=True)
    if not _pkce_matches(form.code_verifier, row["code_challenge"]):
        raise _invalid_grant("the code verifier does not match", keep_writes=True)
    _active_user(conn, row["user_id"])
    session_id = uuid.uuid4()
    # A code is issued after the second factor whenever the account has one confirmed.
    totp = queries.totp(conn, row["user_id"])
    amr = ["pwd", "otp"] if totp is not None and totp["confirmed_at"] is not None else ["pwd"]
    queries.insert_session(
        conn,
        session_id=session_id,
        user_id=row["user_id"],
        client_id=row["client_id"],
        amr=amr,
        days=issuer.settings.refresh_token_days,
    )
    return _tokens_for_user(
        conn,
        issuer,
        user_id=row["user_id"],
        client_id=row["client_id"],
        scope=row["scope"],
        family_id=session_id,
        amr=amr,
    )


def refresh(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    if not (form.refresh_token and form.client_id):
        raise Problem(400, "invalid_request", "refresh_token and client_id are required")
    token_hash = digest(form.refresh_token)
    row = queries.take_refresh_token(conn, token_hash)
    if row is None or row["client_id"] != form.client_id:
        raise _invalid_grant("the refresh token is not valid")
    if row["already_used"] and not row["revoked"]:
        # Someone replayed a rotated token: the thief or the owner, we cannot tell which,
        # so the whole family stops working.
        queries.revoke_family(conn, row["family_id"])
        record(
            conn,
            action="auth.refresh_token_reused",
            venue_id=None,
            actor_user_id=row["user_id"],
            target_type="session",
            target_id=row["family_id"],
            critical=True,
        )
        raise _invalid_grant("the refresh token is not valid", keep_writes=True)
    if row["revoked"] or row["expired"] or row["already_used"]:
        raise _invalid_grant("the refresh token is not valid")
    _active_user(conn, row["user_id"])
    queries.mark_refresh_token_used(conn, token_hash)
    return _tokens_for_user(
        conn,
        issuer,
        user_id=row["user_id"],
        client_id=row["client_id"],
        scope=row["scope"],
        family_id=row["family_id"],
        amr=row["amr"],
    )


def till_token(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    """Client credentials of a registered till. The device token does not bind a venue:
    a till session, opened with a staff PIN, does."""
    if not (form.client_id and form.client_secret):
        raise Problem(401, "invalid_client", "client authentication failed")
    client = queries.client(conn, form.client_id)
    if (
        client is None
        or client["kind"] != "till"
        or not hmac.compare_digest(client["secret_hash"], digest(form.client_secret).hex())
    ):
        raise Problem(401, "invalid_client", "client authentication failed")
    return TokenResponse(
        access_token=access_token(
            issuer,
            subject=client["client_id"],
            client_id=client["client_id"],
            scope="till",
            session=None,
        ),
        expires_in=issuer.settings.access_token_seconds,
        scope="till",
    )


def token(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    grants = {
        "authorization_code": exchange_code,
        "refresh_token": refresh,
        "client_credentials": till_token,
    }
    grant = grants.get(form.grant_type)
    if grant is None:
        raise Problem(400, "unsupported_grant_type", "this grant type is not supported")
    return grant(conn, issuer, form)


def revoke(conn: psycopg.Connection, token_value: str) -> None:
    """RFC 7009: revoking a refresh token ends its whole session; unknown tokens and access
    tokens (short-lived, stateless) are accepted silently."""
    row = queries.take_refresh_token(conn, digest(token_value))
    if row is not None:
        queries.revoke_family(conn, row["family_id"])


# --- the account's own credentials ------------------------------------------------------------


def is_privileged(conn: psycopg.Connection, user_id: uuid.UUID, is_platform_admin: bool) -> bool:
    """Platform admins and anyone holding an elevated flag at any venue."""
    if is_platform_admin:
        return True
    return any(flags & ELEVATED for _, _, flags in queries.attachment_flags(conn, user_id))


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
    throttle = Throttle(conn, issuer, user["email"], source_ip)
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
    is_platform_admin: bool,
    code: str,
) -> None:
    if is_platform_admin:
        raise Problem(409, "mfa-required", "platform admins must keep a second factor")
    if not check_second_factor(conn, issuer, user_id, code=code, recovery_code=None):
        raise Problem(422, "wrong-code", "the code is not right")
    queries.remove_totp(conn, user_id)
    record(
        conn,
        action="account.mfa_disabled",
        venue_id=None,
        actor_user_id=user_id,
        target_type="user",
        target_id=user_id,
    )
