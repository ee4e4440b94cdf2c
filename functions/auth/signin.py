"""Signing in: credentials (and, when enrolled, a second factor) in, a one-time code out."""

from __future__ import annotations

import dataclasses
from typing import Any

import psycopg

from auth import queries
from auth.checks import (
    ACR_LOA_1,
    ACR_LOA_2,
    AMR_PASSWORD,
    AMR_SECOND_FACTOR,
    SCOPE_FULL,
    Throttle,
    check_second_factor,
    digest,
    new_secret,
    refuse,
    scope_for,
)
from auth.config import Issuer
from auth.models import Authorization, SecondFactor, SignIn
from tenancy.problems import Problem


def _spa_client(conn: psycopg.Connection, client_id: str, redirect_uri: str) -> dict[str, Any]:
    client = queries.client(conn, client_id)
    if client is None or client["kind"] != "spa":
        raise Problem(400, "invalid_request", "unknown client")
    if redirect_uri not in client["redirect_uris"]:
        raise Problem(400, "invalid_request", "redirect_uri is not registered for this client")
    return client


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
        raise refuse()
    if not passwords.verify_password(user["password_hash"], body.password) or user["disabled_at"]:
        throttle.failed(user["id"])
        raise refuse()
    if passwords.needs_rehash(user["password_hash"]):
        queries.set_password_hash(conn, user["id"], passwords.hash_password(body.password))

    grant = queries.PendingGrant(
        client_id=body.client_id,
        user_id=user["id"],
        redirect_uri=body.redirect_uri,
        code_challenge=body.code_challenge,
        scope=SCOPE_FULL,
        amr=AMR_PASSWORD,
        acr=ACR_LOA_1,
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
    grant = dataclasses.replace(grant, scope=scope_for(conn, user, grant.amr))
    return _issue_code(conn, issuer, grant, body.state)


def second_factor(
    conn: psycopg.Connection, issuer: Issuer, body: SecondFactor, source_ip: str
) -> Authorization:
    if (body.code is None) == (body.recovery_code is None):
        raise Problem(400, "invalid_request", "send either code or recovery_code")
    token_hash = digest(body.mfa_token)
    challenge = queries.open_mfa_challenge(conn, token_hash)
    if challenge is None:
        raise refuse("this sign-in has expired; start again")
    user = queries.user_by_id(conn, challenge.user_id)
    assert user is not None
    throttle = Throttle(conn, issuer, user["email"], source_ip)
    if not check_second_factor(
        conn, issuer, throttle, user, code=body.code, recovery_code=body.recovery_code
    ):
        raise refuse("the code is not right")
    throttle.succeeded()
    queries.close_mfa_challenge(conn, token_hash)
    # The sign-in is complete now: auth_time is the moment the second factor was proven.
    grant = dataclasses.replace(challenge, amr=AMR_SECOND_FACTOR, acr=ACR_LOA_2, auth_time=None)
    grant = dataclasses.replace(grant, scope=scope_for(conn, user, grant.amr, grant.scope))
    return _issue_code(conn, issuer, grant, body.state)
