"""Who must keep a second factor: platform admins, and the owners, managers and regional
managers of a venue that requires one for its admins."""

from __future__ import annotations

import uuid

import psycopg
import pyotp
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import USER
from tenancy.permissions import Role
from tests.support.demo_users import account_id, attach, copy_of_demo_user
from tests.support.oauth import authorize, refresh, sign_in
from tests.support.second_factor import (
    Enrolled,
    require_mfa_for_admins,
    sign_in_with_second_factor,
)

#: Bodies that would be accepted, so a refusal is about the scope only.
BODIES: dict[str, object] = {
    "/me/password": {"current_password": "x", "new_password": "Another-Long-Pass-2026!"},
    "/me/mfa/totp": {"code": "123456"},
}


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def remove_authenticator(api: ApiClient, enrolled: Enrolled) -> Response:
    tokens = sign_in_with_second_factor(
        api, enrolled.email, recovery_code=enrolled.recovery_codes[0]
    )
    return api.request(
        "DELETE",
        "/me/mfa/totp",
        token=tokens["access_token"],
        json_body={"code": enrolled.totp.now()},
    )


def has_authenticator(admin_db: psycopg.Connection, enrolled: Enrolled) -> bool:
    row = admin_db.execute(
        "SELECT count(*) FROM user_totp WHERE user_id = %s", (enrolled.user_id,)
    ).fetchone()
    return row == (1,)


@pytest.mark.parametrize("role", [Role.OWNER, Role.MANAGER, Role.REGIONAL_MANAGER])
def test_an_admin_of_a_venue_requiring_mfa_cannot_remove_their_last_second_factor(
    api: ApiClient,
    admin_db: psycopg.Connection,
    enrolled_account: Enrolled,
    venue: uuid.UUID,
    role: Role,
) -> None:
    """Given an owner, manager or regional manager of a venue requiring MFA for its admins,
    when they remove their authenticator with a right code, then it is refused with 409
    mfa-required and the authenticator stays."""
    attach(admin_db, account_id(admin_db, enrolled_account.email), venue, role)
    require_mfa_for_admins(admin_db, venue, True)

    response = remove_authenticator(api, enrolled_account)

    assert response.status == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "mfa-required"
    assert has_authenticator(admin_db, enrolled_account)


def test_without_such_a_policy_the_authenticator_can_be_removed(
    api: ApiClient,
    admin_db: psycopg.Connection,
    enrolled_account: Enrolled,
    venue: uuid.UUID,
) -> None:
    """Given a manager of a venue that does not require MFA, when they remove their
    authenticator with a right code, then it is gone and the removal is audited."""
    attach(admin_db, account_id(admin_db, enrolled_account.email), venue, Role.MANAGER)

    response = remove_authenticator(api, enrolled_account)

    assert response.status == 200, response.text
    assert not has_authenticator(admin_db, enrolled_account)
    event = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'account.mfa_disabled'"
        " AND actor_user_id = %s",
        (enrolled_account.user_id,),
    ).fetchone()
    assert event == (1,)


def test_a_waiter_of_a_venue_requiring_mfa_may_remove_theirs(
    api: ApiClient,
    admin_db: psycopg.Connection,
    enrolled_account: Enrolled,
    venue: uuid.UUID,
) -> None:
    """Given a waiter at a venue requiring MFA for its admins (the policy is for admins),
    when they remove their authenticator with a right code, then it is removed."""
    attach(admin_db, account_id(admin_db, enrolled_account.email), venue, Role.WAITER)
    require_mfa_for_admins(admin_db, venue, True)

    response = remove_authenticator(api, enrolled_account)

    assert response.status == 200, response.text
    assert not has_authenticator(admin_db, enrolled_account)


def test_a_platform_admin_cannot_remove_their_last_second_factor(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled
) -> None:
    """Given a platform admin with an authenticator, when they remove it with a right code,
    then it is refused with 409 mfa-required."""
    admin_db.execute(
        "UPDATE users SET is_platform_admin = true WHERE id = %s", (enrolled_account.user_id,)
    )

    response = remove_authenticator(api, enrolled_account)

    assert response.status == 409, response.text
    assert response.json()["code"] == "mfa-required"
    assert has_authenticator(admin_db, enrolled_account)


# --- the enrolment-only scope --------------------------------------------------------------


@pytest.fixture
def must_enrol(admin_db: psycopg.Connection, account: str, venue: uuid.UUID) -> str:
    """A manager without a second factor at a venue requiring one: their sign-in gives the
    enrolment-only scope."""
    attach(admin_db, account_id(admin_db, account), venue, Role.MANAGER)
    require_mfa_for_admins(admin_db, venue, True)
    return account


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/me"),
        ("GET", "/me/venues"),
        ("POST", "/me/password"),
        ("DELETE", "/me/mfa/totp"),
    ],
)
def test_an_enrolment_only_token_reaches_no_other_account_route(
    api: ApiClient, must_enrol: str, method: str, path: str
) -> None:
    """Given an admin who must enrol a second factor, signed in with the password only, when
    their token is used on any account route but the enrolment ones, then it is refused with
    403 insufficient-scope (today GET /me/venues lists every venue to a platform admin)."""
    tokens = sign_in(api, must_enrol)
    assert "venue" not in tokens["scope"].split()

    response = api.request(method, path, token=tokens["access_token"], json_body=BODIES.get(path))

    assert response.status == 403, response.text
    assert response.json()["code"] == "insufficient-scope"


def test_an_enrolment_only_token_can_enrol(api: ApiClient, must_enrol: str) -> None:
    """Given the same admin, their token starts and confirms the enrolment."""
    token = sign_in(api, must_enrol)["access_token"]

    started = api.request("POST", "/me/mfa/totp", token=token)
    assert started.status == 201, started.text
    code = pyotp.TOTP(started.json()["secret"]).now()
    confirmed = api.request("POST", "/me/mfa/totp/confirm", token=token, json_body={"code": code})

    assert confirmed.status == 200, confirmed.text
    assert len(confirmed.json()["recovery_codes"]) == 10


def test_a_full_token_can_still_enrol(api: ApiClient, account: str) -> None:
    """Given a waiter signed in with the full scope, the enrolment routes are open to them."""
    token = sign_in(api, account)["access_token"]

    assert api.request("POST", "/me/mfa/totp", token=token).status == 201


def test_a_platform_admin_who_must_enrol_cannot_list_the_venues(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a person signed in with the password only who is then made a platform admin
    (without a second factor), when their refreshed token asks for the venue switcher, then
    it is refused: the platform admin's view of every venue needs the second factor first.
    A new sign-in of theirs stops at the page that sets one up: no code is issued without."""
    tokens = sign_in(api, account)
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE email = %s", (account,))
    token = refresh(api, tokens["refresh_token"]).json()["access_token"]

    response = api.get("/me/venues", token=token)
    again = authorize(api, account)

    assert response.status == 403, response.text
    assert response.json()["code"] == "insufficient-scope"
    assert "enrol a second factor" in response.json()["detail"]
    assert again.status == 200
    assert "location" not in again.headers
    assert 'action="/oauth/authorize/enrol"' in again.text
