"""The token endpoint's grants (authorization code + PKCE, rotating refresh tokens, till
client credentials) and revocation (RFC 7009)."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg

from auth import queries
from auth.checks import invalid_grant, scope_for
from auth.config import Issuer
from auth.token_models import TokenRequest, TokenResponse
from tenancy.audit import record
from tenancy.links import digest, new_secret
from tenancy.problems import Problem


def _pkce_matches(verifier: str, challenge: str) -> bool:
    if not 43 <= len(verifier) <= 128:
        return False
    computed = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest())
    return hmac.compare_digest(computed.rstrip(b"=").decode(), challenge)


@dataclass(frozen=True)
class Session:
    """A sign-in session (``auth_sessions``) as its tokens describe it."""

    id: uuid.UUID
    amr: list[str]
    acr: str
    auth_time: dt.datetime


def access_token(
    issuer: Issuer,
    *,
    subject: str,
    client_id: str,
    scope: str,
    session: Session | None,
) -> str:
    """An RFC 9068 access token. A person's token names its session (``sid``) and says how
    (``amr``, ``acr``) and when (``auth_time``) they signed in; a till's names none."""
    import time

    now = int(time.time())
    claims: dict[str, Any] = {
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
        claims |= {
            "sid": str(session.id),
            "amr": list(session.amr),
            "acr": session.acr,
            "auth_time": int(session.auth_time.timestamp()),
        }
    return issuer.signer.sign(claims)


def id_token(
    issuer: Issuer,
    *,
    subject: str,
    client_id: str,
    session: Session,
    nonce: str | None,
    access: str,
) -> str:
    """An OpenID Connect ID token (Core §2): who signed in, when and how, for the client
    alone (``aud``), with the request's nonce and the hash of the access token issued with
    it (``at_hash``). Signed by the same KMS key, typed ``JWT``: never an access token."""
    import time

    now = int(time.time())
    half = hashlib.sha256(access.encode()).digest()[:16]
    claims: dict[str, Any] = {
        "iss": issuer.settings.token_issuer,
        "sub": subject,
        "aud": client_id,
        "iat": now,
        "exp": now + issuer.settings.access_token_seconds,
        "auth_time": int(session.auth_time.timestamp()),
        "amr": list(session.amr),
        "acr": session.acr,
        "sid": str(session.id),
        "at_hash": base64.urlsafe_b64encode(half).rstrip(b"=").decode(),
    }
    if nonce is not None:
        claims["nonce"] = nonce
    return issuer.signer.sign(claims, typ="JWT")


def _tokens_for_user(
    conn: psycopg.Connection,
    issuer: Issuer,
    *,
    user_id: uuid.UUID,
    client_id: str,
    scope: str,
    session: Session,
    with_id_token: bool = False,
    nonce: str | None = None,
) -> TokenResponse:
    refresh_token = new_secret()
    queries.insert_refresh_token(
        conn,
        token_hash=digest(refresh_token),
        family_id=session.id,
        user_id=user_id,
        client_id=client_id,
        scope=scope,
        days=issuer.settings.refresh_token_days,
    )
    access = access_token(
        issuer, subject=str(user_id), client_id=client_id, scope=scope, session=session
    )
    identity = (
        id_token(
            issuer,
            subject=str(user_id),
            client_id=client_id,
            session=session,
            nonce=nonce,
            access=access,
        )
        if with_id_token
        else None
    )
    return TokenResponse(
        access_token=access,
        expires_in=issuer.settings.access_token_seconds,
        scope=scope,
        refresh_token=refresh_token,
        id_token=identity,
    )


def _active_user(conn: psycopg.Connection, user_id: uuid.UUID) -> dict[str, Any]:
    user = queries.user_by_id(conn, user_id)
    if user is None or user["disabled_at"] is not None:
        raise invalid_grant("the account is not active")
    return user


def _end_replayed_code_session(
    conn: psycopg.Connection, row: dict[str, Any], client_id: str
) -> None:
    """RFC 6749 §4.1.2: a code used twice revokes what its first exchange issued: the
    session, so its refresh tokens and (through the gate) its access tokens."""
    session_id = row["session_id"]
    if session_id is None:  # its first exchange failed: nothing was issued
        return
    was_live = queries.revoke_family(conn, session_id)
    record(
        conn,
        action="auth.code_replayed",
        venue_id=None,
        actor_user_id=row["user_id"],
        target_type="session",
        target_id=session_id,
        details={"client_id": client_id, "session_was_live": was_live},
        critical=True,
    )


def exchange_code(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    if not (form.code and form.code_verifier and form.client_id and form.redirect_uri):
        raise Problem(
            400, "invalid_request", "code, code_verifier, client_id and redirect_uri are required"
        )
    code_hash = digest(form.code)
    row = queries.take_authorization_code(conn, code_hash)
    if row is None:
        raise invalid_grant("the code is not valid")
    # The code is spent from here on, whatever the outcome.
    if row["already_used"]:
        _end_replayed_code_session(conn, row, form.client_id)
        raise invalid_grant("the code is not valid", keep_writes=True)
    if row["expired"]:
        raise invalid_grant("the code is not valid", keep_writes=True)
    if row["client_id"] != form.client_id or row["redirect_uri"] != form.redirect_uri:
        raise invalid_grant("the code was not issued to this client", keep_writes=True)
    if not _pkce_matches(form.code_verifier, row["code_challenge"]):
        raise invalid_grant("the code verifier does not match", keep_writes=True)
    if row["user_disabled"]:
        raise invalid_grant("the account is not active", keep_writes=True)
    # Only new rows from here (the session, its refresh token) and the code's use: lost to
    # a server crash, they leave tokens that name no session, which the gate and the token
    # endpoint refuse, and the person signs in again. Refusals above wait for the flush.
    queries.without_waiting_for_the_flush(conn)
    session = Session(uuid.uuid4(), list(row["amr"]), row["acr"], row["auth_time"])
    queries.insert_session(
        conn,
        session_id=session.id,
        user_id=row["user_id"],
        client_id=row["client_id"],
        amr=session.amr,
        acr=session.acr,
        auth_time=session.auth_time,
        days=issuer.settings.session_absolute_days,
    )
    queries.record_code_session(conn, code_hash, session.id)
    return _tokens_for_user(
        conn,
        issuer,
        user_id=row["user_id"],
        client_id=row["client_id"],
        scope=row["scope"],
        session=session,
        # OpenID Connect: the code's request asked for openid. A refresh issues none.
        with_id_token="openid" in row["scope"].split(" "),
        nonce=row["nonce"],
    )


def refresh(conn: psycopg.Connection, issuer: Issuer, form: TokenRequest) -> TokenResponse:
    """Rotate a refresh token within its session. The session's amr, acr, auth_time and
    absolute end are kept; the scope is decided again from today's account and venues."""
    if not (form.refresh_token and form.client_id):
        raise Problem(400, "invalid_request", "refresh_token and client_id are required")
    token_hash = digest(form.refresh_token)
    row = queries.take_refresh_token(conn, token_hash)
    if row is None or row["client_id"] != form.client_id:
        raise invalid_grant("the refresh token is not valid")
    if row["already_used"] and not row["revoked"]:
        # Someone replayed a rotated token: the thief or the owner, we cannot tell which,
        # so the whole session stops working.
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
        raise invalid_grant("the refresh token is not valid", keep_writes=True)
    if row["revoked"] or row["expired"] or row["already_used"]:
        raise invalid_grant("the refresh token is not valid")
    user = _active_user(conn, row["user_id"])
    queries.mark_refresh_token_used(conn, token_hash)
    session = Session(row["family_id"], list(row["amr"]), row["acr"], row["auth_time"])
    return _tokens_for_user(
        conn,
        issuer,
        user_id=row["user_id"],
        client_id=row["client_id"],
        scope=scope_for(conn, user, session.amr, row["scope"]),
        session=session,
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


def revoke(conn: psycopg.Connection, token_value: str, client_id: str) -> None:
    """RFC 7009: revoking a refresh token ends its whole session. Only the client the token
    was issued to may revoke it (§2.1); a token of another client, an unknown token or an
    access token (short-lived, stateless) is answered the same and changes nothing, so the
    answer tells nothing about the token."""
    row = queries.take_refresh_token(conn, digest(token_value))
    if row is None or not hmac.compare_digest(row["client_id"], client_id):
        return
    if queries.revoke_family(conn, row["family_id"]):
        record(
            conn,
            action="auth.session_revoked",
            venue_id=None,
            actor_user_id=row["user_id"],
            target_type="session",
            target_id=row["family_id"],
            details={"client_id": client_id, "reason": "revocation"},
        )
