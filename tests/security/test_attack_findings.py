"""Findings of the attack on make dev, on the gate's side, each kept as a regression test:
MFA that holds at the gate, sessions that end, and the small holes of the review."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER
from tests.conftest import Bind
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import sign_in

ADMIN = USER["platform_admin"].id


def test_a_platform_admin_with_a_password_only_token_is_refused_at_venues(
    api: ApiClient,
) -> None:
    """Finding 1. Given a platform admin whose session was opened with a password alone,
    when they open a venue they are not attached to, then the gate refuses with a problem
    that says MFA is needed; the same admin with a second factor gets in."""
    password_only = api.fresh_token(ADMIN, amr=["pwd"])
    with_mfa = api.fresh_token(ADMIN, amr=["pwd", "otp"])

    refused = api.get(f"/venues/{LUME}/orders", token=password_only)
    admitted = api.get(f"/venues/{LUME}/orders", token=with_mfa)

    assert refused.status == 403
    assert refused.json()["code"] == "mfa-required"
    assert "MFA" in refused.json()["detail"]
    assert admitted.status == 200


@pytest.fixture
def nord_requires_mfa(admin_db: psycopg.Connection) -> Iterator[None]:
    admin_db.execute(
        "UPDATE venue_settings SET require_mfa_for_admins = true WHERE venue_id = %s", (NORD,)
    )
    yield
    admin_db.execute(
        "UPDATE venue_settings SET require_mfa_for_admins = false WHERE venue_id = %s", (NORD,)
    )


def test_a_venue_that_requires_mfa_refuses_its_managers_password_only_tokens(
    api: ApiClient, nord_requires_mfa: None
) -> None:
    """Finding 2, at the gate. Given nord requiring MFA of its managers, when nord's manager
    comes with a token of a password-only session, then every nord route says MFA is
    needed (even though the token was issued before the policy); a casual of nord, whom
    the policy does not cover, is served."""
    manager = api.fresh_token(USER["manager"].id, amr=["pwd"])
    manager_with_mfa = api.fresh_token(USER["manager"].id, amr=["pwd", "otp"])
    casual = api.fresh_token(USER["casual"].id, amr=["pwd"])

    refused = api.get(f"/venues/{NORD}/orders", token=manager)

    assert (refused.status, refused.json()["code"]) == (403, "mfa-required")
    assert api.get(f"/venues/{NORD}/orders", token=manager_with_mfa).status == 200
    assert api.get(f"/venues/{NORD}/orders", token=casual).status == 200


def test_a_revoked_sessions_access_token_stops_working_at_once(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Finding 6. Given a signed-in manager, when the session is revoked (POST
    /oauth/revoke with its refresh token), then the still-unexpired access token gets 401
    on the very next request, at a venue route and an account route alike."""
    email = copy_of_demo_user(admin_db, USER["manager"], with_attachments=True)
    tokens = sign_in(api, email)
    access = tokens["access_token"]
    assert api.get(f"/venues/{NORD}/orders", token=access).status == 200

    revoked = api.request(
        "POST",
        "/oauth/revoke",
        body=f"token={tokens['refresh_token']}&client_id=admin-spa".encode(),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert revoked.status == 200
    venue = api.get(f"/venues/{NORD}/orders", token=access)
    account = api.get("/me", token=access)

    assert (venue.status, venue.json()["code"]) == (401, "session-ended")
    assert (account.status, account.json()["code"]) == (401, "session-ended")


def test_a_token_without_a_session_is_refused(api: ApiClient) -> None:
    """Every user token names its sign-in session: one that names none (or an unknown one)
    is not honoured."""
    no_session = api.key.access_token(USER["manager"].id)
    unknown = api.key.access_token(USER["manager"].id, sid=str(uuid.uuid4()))

    assert api.get("/me", token=no_session).status == 401
    assert api.get("/me", token=unknown).json()["code"] == "session-ended"


def test_the_override_audit_event_says_what_was_done_and_where(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Finding 9. Given a platform admin reading a venue's orders, the critical audit event
    records the route, the method, the correlation id and that it was a read."""
    token = api.fresh_token(ADMIN, amr=["pwd", "otp"])
    response = api.get(f"/venues/{LUME}/orders", token=token)
    assert response.status == 200

    details = admin_db.execute(
        "SELECT details FROM audit_outbox WHERE venue_id = %s AND actor_user_id = %s"
        " AND action = 'platform_admin.venue_access' AND critical"
        " ORDER BY occurred_at DESC LIMIT 1",
        (LUME, ADMIN),
    ).fetchone()
    assert details is not None
    assert details[0]["route"] == "GET /venues/{venue_id}/orders"
    assert details[0]["method"] == "GET"
    assert details[0]["access"] == "read"
    assert uuid.UUID(details[0]["correlation_id"])


def test_duplicate_json_keys_are_refused(api: ApiClient) -> None:
    """Finding 9. A body naming a key twice is ambiguous (which one wins differs between
    parsers): refused, and nothing is written."""
    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{uuid.uuid4()}",
        as_user=USER["head_chef"].id,
        body=b'{"price_cents": 1, "price_cents": 2}',
        headers={"content-type": "application/json"},
    )

    assert response.status == 400
    assert response.json()["code"] == "malformed-json"


def test_a_handler_at_one_venue_cannot_delete_the_callers_attachment_at_another(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Finding 9. Given the regional manager (attached to centrale and nord) bound at
    centrale, a statement deleting all of their own attachments removes none at nord."""
    email = copy_of_demo_user(admin_db, USER["regional"], with_attachments=True)
    row = admin_db.execute("SELECT id FROM users WHERE email = %s", (email,)).fetchone()
    assert row is not None
    regional = row[0]

    with runtime_db.transaction():
        bind(runtime_db, user_id=regional, venue_id=CENTRALE)
        runtime_db.execute("DELETE FROM venue_attachments WHERE user_id = %s", (regional,))

    remaining = admin_db.execute(
        "SELECT venue_id FROM venue_attachments WHERE user_id = %s", (regional,)
    ).fetchall()
    assert remaining == [(NORD,)]


def test_an_enrolment_only_token_reaches_only_the_enrolment_routes(api: ApiClient) -> None:
    """Finding 9. A token limited to MFA enrolment may start enrolment, and may not list
    the venues (nor open one)."""
    token = api.fresh_token(ADMIN, scope="mfa-enrolment")

    venues = api.get("/me/venues", token=token)
    venue = api.get(f"/venues/{LUME}/orders", token=token)
    enrol = api.request("POST", "/me/mfa/totp", token=token)

    assert (venues.status, venues.json()["code"]) == (403, "insufficient-scope")
    assert (venue.status, venue.json()["code"]) == (403, "insufficient-scope")
    assert enrol.status != 403, enrol.text
