"""RFC 7009 revocation: only the client a token was issued to can revoke it."""

from __future__ import annotations

from urllib.parse import urlencode

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import SPA_CLIENT_ID, SPA_REDIRECT_URIS, USER
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import FORM, refresh, sign_in

OTHER_CLIENT = "other-spa"


@pytest.fixture
def other_client(admin_db: psycopg.Connection) -> str:
    """A second registered SPA, as another application of the platform would be."""
    admin_db.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, redirect_uris)"
        " VALUES (%s, 'Other', 'spa', %s) ON CONFLICT DO NOTHING",
        (OTHER_CLIENT, SPA_REDIRECT_URIS),
    )
    return OTHER_CLIENT


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def revoke(api: ApiClient, **form: str) -> Response:
    return api.request("POST", "/oauth/revoke", body=urlencode(form).encode(), headers=FORM)


def test_another_client_cannot_revoke_a_token_it_was_not_issued(
    api: ApiClient, account: str, other_client: str
) -> None:
    """Given a session of the admin SPA, when another client presents its refresh token for
    revocation, then the answer is 200 (RFC 7009 tells nothing about the token) but the
    session is not revoked: the admin SPA still refreshes."""
    tokens = sign_in(api, account)

    response = revoke(api, token=tokens["refresh_token"], client_id=other_client)

    assert response.status == 200, response.text
    assert refresh(api, tokens["refresh_token"]).status == 200


def test_the_client_a_token_was_issued_to_revokes_it_and_it_is_audited(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a session of the admin SPA, when the admin SPA revokes its refresh token, then
    the token is refused afterwards and the sign-out is in the audit trail."""
    tokens = sign_in(api, account)

    response = revoke(api, token=tokens["refresh_token"], client_id=SPA_CLIENT_ID)

    assert response.status == 200
    assert refresh(api, tokens["refresh_token"]).status == 400
    events = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'auth.session_revoked'"
        " AND actor_user_id = (SELECT id FROM users WHERE email = %s)",
        (account,),
    ).fetchone()
    assert events == (1,)


def test_a_revocation_must_name_its_client(api: ApiClient, account: str) -> None:
    """Given a refresh token, when it is sent for revocation without a client_id, then the
    request is refused as invalid and the session stays."""
    tokens = sign_in(api, account)

    response = revoke(api, token=tokens["refresh_token"])

    assert response.status == 400
    assert response.json()["error"] == "invalid_request"
    assert refresh(api, tokens["refresh_token"]).status == 200
