"""Sign-in sessions: each code exchange opens one (`auth_sessions`), its tokens say how and
when the person signed in, refresh keeps that and never outlives it, and every revocation
ends it at once."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any
from urllib.parse import urlencode

import jwt
import psycopg
import pytest
from psycopg.rows import dict_row

from auth.config import Issuer
from infra.local.client import ApiClient
from infra.local.seed import DEMO_PASSWORD, SPA_CLIENT_ID, USER
from tenancy.permissions import Role
from tests.support.demo_users import account_id, attach, copy_of_demo_user
from tests.support.oauth import (
    FORM,
    assert_invalid_grant,
    exchange,
    refresh,
    sign_in,
    start,
)
from tests.support.second_factor import (
    Enrolled,
    enrol_second_factor,
    require_mfa_for_admins,
    sign_in_with_second_factor,
)

LOA_PASSWORD = "urn:venue:loa:1"
LOA_SECOND_FACTOR = "urn:venue:loa:2"
SCOPE_FULL = "account venue"
SCOPE_ENROL_ONLY = "mfa-enrolment"


def claims(access_token: str) -> dict[str, Any]:
    decoded: dict[str, Any] = jwt.decode(access_token, options={"verify_signature": False})
    return decoded


def session_row(admin_db: psycopg.Connection, session_id: str) -> dict[str, Any]:
    cursor = admin_db.cursor(row_factory=dict_row)
    row = cursor.execute(
        "SELECT user_id, client_id, amr, acr, auth_time, expires_at, revoked_at, created_at"
        " FROM auth_sessions WHERE id = %s",
        (session_id,),
    ).fetchone()
    assert row is not None
    return row


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


# --- how and when the person signed in ---------------------------------------------------------


def test_a_password_sign_in_opens_a_session_its_tokens_name(
    api: ApiClient, admin_db: psycopg.Connection, issuer: Issuer, account: str
) -> None:
    """Given an account without a second factor, when it signs in, then the access token
    says pwd, level 1, when, and names the session the code exchange opened, which ends
    after session_absolute_days whatever happens."""
    tokens = sign_in(api, account)

    token = claims(tokens["access_token"])
    session = session_row(admin_db, token["sid"])
    assert token["amr"] == ["pwd"]
    assert token["acr"] == LOA_PASSWORD
    assert token["auth_time"] == int(session["auth_time"].timestamp())
    assert token["auth_time"] <= token["iat"]
    assert session["amr"] == ["pwd"]
    assert session["acr"] == LOA_PASSWORD
    assert session["client_id"] == SPA_CLIENT_ID
    assert session["revoked_at"] is None
    assert issuer.settings.session_absolute_days == 30
    assert session["expires_at"] - session["created_at"] == dt.timedelta(days=30)


def test_a_second_factor_sign_in_is_level_2(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled
) -> None:
    """Given an account with an authenticator, when it signs in with a TOTP code, then its
    token and session say pwd and otp, level 2."""
    tokens = sign_in_with_second_factor(
        api, enrolled_account.email, code=enrolled_account.totp.now()
    )

    token = claims(tokens["access_token"])
    assert token["amr"] == ["pwd", "otp"]
    assert token["acr"] == LOA_SECOND_FACTOR
    assert session_row(admin_db, token["sid"])["amr"] == ["pwd", "otp"]


def test_a_recovery_code_counts_as_the_second_factor(
    api: ApiClient, enrolled_account: Enrolled
) -> None:
    """Given an account with an authenticator, when it signs in with a recovery code instead
    of a TOTP code, then its token says pwd and otp, level 2, as well."""
    tokens = sign_in_with_second_factor(
        api, enrolled_account.email, recovery_code=enrolled_account.recovery_codes[0]
    )

    assert claims(tokens["access_token"])["amr"] == ["pwd", "otp"]
    assert claims(tokens["access_token"])["acr"] == LOA_SECOND_FACTOR


def test_how_the_session_was_signed_in_does_not_change_when_a_factor_is_enrolled_later(
    api: ApiClient, admin_db: psycopg.Connection, issuer: Issuer, account: str
) -> None:
    """Given a password-only session, when the account enrols an authenticator during it,
    then the session's refreshed tokens still say pwd only: only a new sign-in proves the
    second factor."""
    tokens = sign_in(api, account)
    enrol_second_factor(admin_db, issuer, account)

    refreshed = refresh(api, tokens["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    assert claims(refreshed.json()["access_token"])["amr"] == ["pwd"]


# --- refresh keeps the session and never outlives it -------------------------------------------


def test_refresh_keeps_the_session_and_how_it_was_signed_in(
    api: ApiClient, enrolled_account: Enrolled
) -> None:
    """Given a session opened with a second factor, when it is refreshed, then the new access
    token names the same session with the same amr, acr and auth_time."""
    first = sign_in_with_second_factor(
        api, enrolled_account.email, recovery_code=enrolled_account.recovery_codes[0]
    )

    refreshed = refresh(api, first["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    before, after = claims(first["access_token"]), claims(refreshed.json()["access_token"])
    for claim in ("sid", "amr", "acr", "auth_time"):
        assert after[claim] == before[claim], claim


def test_a_refresh_token_never_outlives_its_session(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a session with one day left, when it is refreshed, then the new refresh token
    expires with the session, and the session's end has not moved."""
    tokens = sign_in(api, account)
    sid = claims(tokens["access_token"])["sid"]
    admin_db.execute(
        "UPDATE auth_sessions SET expires_at = now() + interval '1 day' WHERE id = %s", (sid,)
    )
    session_end = session_row(admin_db, sid)["expires_at"]

    refreshed = refresh(api, tokens["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    newest = admin_db.execute(
        "SELECT expires_at FROM refresh_tokens WHERE family_id = %s"
        " ORDER BY created_at DESC, expires_at DESC LIMIT 1",
        (sid,),
    ).fetchone()
    assert newest == (session_end,)
    assert session_row(admin_db, sid)["expires_at"] == session_end


def test_refresh_after_the_session_has_ended_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a session past its absolute lifetime (its refresh token itself not expired),
    when it is refreshed, then the grant is refused."""
    tokens = sign_in(api, account)
    sid = claims(tokens["access_token"])["sid"]
    admin_db.execute(
        "UPDATE auth_sessions SET expires_at = now() - interval '1 second' WHERE id = %s", (sid,)
    )

    assert_invalid_grant(refresh(api, tokens["refresh_token"]))


# --- refresh decides the scope again -----------------------------------------------------------


def test_refresh_after_the_venue_starts_requiring_mfa_reduces_the_scope(
    api: ApiClient, admin_db: psycopg.Connection, account: str, venue: uuid.UUID
) -> None:
    """Given a manager without a second factor, signed in with the full scope, when their
    venue turns require_mfa_for_admins on, then the next refresh gives enrolment only, and
    that token cannot open the venue."""
    attach(admin_db, account_id(admin_db, account), venue, Role.MANAGER)
    tokens = sign_in(api, account)
    assert tokens["scope"] == SCOPE_FULL
    require_mfa_for_admins(admin_db, venue, True)

    refreshed = refresh(api, tokens["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    assert refreshed.json()["scope"] == SCOPE_ENROL_ONLY
    assert claims(refreshed.json()["access_token"])["scope"] == SCOPE_ENROL_ONLY
    denied = api.get(f"/venues/{venue}/orders", token=refreshed.json()["access_token"])
    assert denied.status == 403
    assert denied.json()["code"] == "insufficient-scope"


def test_an_admin_who_enrolled_during_a_password_only_session_stays_reduced(
    api: ApiClient, admin_db: psycopg.Connection, issuer: Issuer, account: str, venue: uuid.UUID
) -> None:
    """Given a manager of a venue requiring MFA, signed in with the password only (so with
    enrolment only), when they enrol an authenticator and refresh, then the session is
    still password-only and keeps the reduced scope: a new sign-in with the code lifts it."""
    attach(admin_db, account_id(admin_db, account), venue, Role.MANAGER)
    require_mfa_for_admins(admin_db, venue, True)
    tokens = sign_in(api, account)
    assert tokens["scope"] == SCOPE_ENROL_ONLY
    enrolled = enrol_second_factor(admin_db, issuer, account)

    refreshed = refresh(api, tokens["refresh_token"])
    again = sign_in_with_second_factor(api, account, code=enrolled.totp.now())

    assert refreshed.status == 200, refreshed.text
    assert refreshed.json()["scope"] == SCOPE_ENROL_ONLY
    assert again["scope"] == SCOPE_FULL


def test_a_session_with_a_second_factor_keeps_its_scope_when_the_venue_requires_mfa(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled, venue: uuid.UUID
) -> None:
    """Given a manager signed in with their second factor, when the venue turns the MFA
    requirement on, then refreshing keeps the full scope, and the venue opens."""
    attach(admin_db, account_id(admin_db, enrolled_account.email), venue, Role.MANAGER)
    tokens = sign_in_with_second_factor(
        api, enrolled_account.email, recovery_code=enrolled_account.recovery_codes[0]
    )
    require_mfa_for_admins(admin_db, venue, True)

    refreshed = refresh(api, tokens["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    assert refreshed.json()["scope"] == SCOPE_FULL
    assert api.get(f"/venues/{venue}/orders", token=refreshed.json()["access_token"]).status == 200


def test_a_platform_admin_session_without_a_second_factor_is_reduced_on_refresh(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a person signed in with the password only, when they are made a platform admin,
    then their next refresh gives enrolment only."""
    tokens = sign_in(api, account)
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE email = %s", (account,))

    refreshed = refresh(api, tokens["refresh_token"])

    assert refreshed.status == 200, refreshed.text
    assert refreshed.json()["scope"] == SCOPE_ENROL_ONLY


# --- every revocation ends the session at once -------------------------------------------------


def assert_session_ended(
    api: ApiClient, admin_db: psycopg.Connection, tokens: dict[str, Any]
) -> None:
    """The session is marked revoked, its refresh token is refused and the gate refuses its
    access token, though the token itself has minutes to live."""
    sid = claims(tokens["access_token"])["sid"]
    assert session_row(admin_db, sid)["revoked_at"] is not None
    assert_invalid_grant(refresh(api, tokens["refresh_token"]))
    refused = api.get("/me", token=tokens["access_token"])
    assert refused.status == 401, refused.text
    assert refused.json()["code"] == "session-ended"


def test_replaying_a_code_ends_the_session_its_first_exchange_opened(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a code exchanged once, when it is presented again (RFC 6749 §4.1.2), then the
    replay is refused, the session of the first exchange ends with every token it issued,
    and a critical audit event says so."""
    started = start(api, account)
    first = exchange(api, started)
    assert first.status == 200, first.text
    sid = claims(first.json()["access_token"])["sid"]

    replay = exchange(api, started)

    assert_invalid_grant(replay)
    event = admin_db.execute(
        "SELECT critical, details->>'session_was_live' FROM audit_outbox"
        " WHERE action = 'auth.code_replayed' AND target_id = %s",
        (sid,),
    ).fetchall()
    assert event == [(True, "true")]
    code_row = admin_db.execute(
        "SELECT count(*) FROM authorization_codes WHERE session_id = %s", (sid,)
    ).fetchone()
    assert code_row == (1,)
    assert_session_ended(api, admin_db, first.json())


def test_after_a_code_replay_the_first_exchange_access_token_is_refused(
    api: ApiClient, account: str
) -> None:
    """Given a code exchanged once and then replayed, then the access token of the first
    exchange is refused by the gate (401): its session has ended."""
    started = start(api, account)
    first = exchange(api, started).json()
    assert api.get("/me", token=first["access_token"]).status == 200

    exchange(api, started)

    assert api.get("/me", token=first["access_token"]).status == 401


def test_reusing_a_rotated_refresh_token_ends_the_session(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a refresh token that was already rotated, when it is presented again, then the
    session ends at once: the newer refresh token and the newer access token are refused."""
    first = sign_in(api, account)
    newer = refresh(api, first["refresh_token"]).json()

    assert_invalid_grant(refresh(api, first["refresh_token"]))

    assert_session_ended(api, admin_db, newer)


def test_revoking_a_refresh_token_ends_the_session(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a session of the admin SPA, when the SPA revokes its refresh token (RFC 7009),
    then the session ends at once, its access token included."""
    tokens = sign_in(api, account)

    revoked = api.request(
        "POST",
        "/oauth/revoke",
        body=urlencode({"token": tokens["refresh_token"], "client_id": SPA_CLIENT_ID}).encode(),
        headers=FORM,
    )

    assert revoked.status == 200
    assert_session_ended(api, admin_db, tokens)


def test_a_password_change_ends_every_other_session_at_once(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given two sessions of one person, when the password is changed in one, then the other
    ends at once (its access token too) and the one in use goes on."""
    other, this = sign_in(api, account), sign_in(api, account)

    changed = api.request(
        "POST",
        "/me/password",
        token=this["access_token"],
        json_body={"current_password": DEMO_PASSWORD, "new_password": "Another-Long-Pass-2026!"},
    )

    assert changed.status == 200, changed.text
    assert changed.json()["other_sessions_revoked"] == 1
    assert_session_ended(api, admin_db, other)
    assert api.get("/me", token=this["access_token"]).status == 200
