"""Who must keep a second factor: platform admins, and the owners, managers and regional
managers of a venue that requires one for its admins."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from tenancy.permissions import Role
from tests.integration.conftest import (
    Enrolled,
    attach,
    require_mfa_for_admins,
    sign_in_with_second_factor,
)


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
    attach(admin_db, enrolled_account.email, venue, role)
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
    attach(admin_db, enrolled_account.email, venue, Role.MANAGER)

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
    attach(admin_db, enrolled_account.email, venue, Role.WAITER)
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
