"""Sign-in through the platform's own issuer, as the admin SPA and the tills do it."""

from __future__ import annotations

from urllib.parse import urlencode

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import (
    CENTRALE,
    DEMO_PASSWORD,
    NORD,
    SPA_CLIENT_ID,
    TILL_CLIENT_ID,
    TILL_CLIENT_SECRET,
    USER,
)
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import (
    FORM,
    REDIRECT_URI,
    assert_invalid_grant,
    begin,
    exchange,
    new_verifier,
    refresh,
    sign_in,
    start,
    token_request,
)

# --- authorization code + PKCE ----------------------------------------------------------------


def test_the_full_pkce_flow_yields_a_token_the_gate_accepts(api: ApiClient) -> None:
    """Given the head chef's credentials, when the SPA signs in with PKCE and exchanges the
    code, then the access token opens their venue and the refresh token is issued."""
    tokens = sign_in(api, USER["head_chef"].email)

    assert tokens["token_type"] == "Bearer"
    assert tokens["expires_in"] <= 900
    assert tokens["refresh_token"]
    response = api.get(f"/venues/{CENTRALE}/orders", token=tokens["access_token"])
    assert response.status == 200
    assert api.get(f"/venues/{NORD}/orders", token=tokens["access_token"]).status == 403


def test_the_access_token_follows_rfc_9068(api: ApiClient) -> None:
    import jwt

    token = sign_in(api, USER["waiter"].email)["access_token"]

    header = jwt.get_unverified_header(token)
    claims = jwt.decode(token, options={"verify_signature": False})
    assert header["typ"] == "at+jwt"
    assert header["alg"] == "ES256"
    assert {"iss", "aud", "sub", "client_id", "scope", "iat", "exp", "jti"} <= set(claims)
    assert claims["exp"] - claims["iat"] <= 900
    assert claims["sub"] == str(USER["waiter"].id)


def test_a_wrong_verifier_is_an_invalid_grant(api: ApiClient) -> None:
    started = start(api, USER["waiter"].email)

    assert_invalid_grant(exchange(api, started, code_verifier=new_verifier()))


def test_a_code_is_good_for_one_exchange_only(api: ApiClient) -> None:
    started = start(api, USER["waiter"].email)
    assert exchange(api, started).status == 200

    assert_invalid_grant(exchange(api, started))


def test_a_code_spent_by_a_failed_attempt_cannot_be_retried(api: ApiClient) -> None:
    """A wrong verifier burns the code: an attacker gets one guess, not many."""
    started = start(api, USER["waiter"].email)
    assert_invalid_grant(exchange(api, started, code_verifier=new_verifier()))

    assert_invalid_grant(exchange(api, started))


def test_an_expired_code_is_an_invalid_grant(api: ApiClient, admin_db: psycopg.Connection) -> None:
    started = start(api, USER["waiter"].email)
    admin_db.execute("UPDATE authorization_codes SET expires_at = now() - interval '1 second'")

    assert_invalid_grant(exchange(api, started))


def test_a_code_presented_by_another_client_is_an_invalid_grant(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    admin_db.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, redirect_uris)"
        " VALUES ('other-spa', 'Other', 'spa', %s) ON CONFLICT DO NOTHING",
        ([REDIRECT_URI],),
    )
    started = start(api, USER["waiter"].email)

    assert_invalid_grant(exchange(api, started, client_id="other-spa"))


def test_only_registered_redirect_uris_and_s256_are_accepted(api: ApiClient) -> None:
    """Given the SPA's authorization request with a redirect URI it did not register, then
    the person sees an error page and nothing is redirected; with a plain PKCE challenge,
    then the client is told so at its redirect URI (invalid_request)."""
    wrong_redirect = begin(api, redirect_uri="https://evil.example/cb")
    plain = begin(api, code_challenge_method="plain")

    assert wrong_redirect.status == 400
    assert "location" not in wrong_redirect.headers
    assert wrong_redirect.headers["content-type"].startswith("text/html")
    assert plain.status == 302
    assert plain.redirect["error"] == "invalid_request"
    assert "code" not in plain.redirect


def test_there_is_no_password_grant(api: ApiClient) -> None:
    response = token_request(
        api,
        grant_type="password",
        username=USER["waiter"].email,
        password=DEMO_PASSWORD,
        client_id=SPA_CLIENT_ID,
    )

    assert response.status == 400
    assert response.json()["error"] in {"unsupported_grant_type", "invalid_request"}


# --- refresh tokens -----------------------------------------------------------------------


def test_refresh_tokens_rotate(api: ApiClient) -> None:
    first = sign_in(api, USER["waiter"].email)

    rotated = refresh(api, first["refresh_token"])

    assert rotated.status == 200, rotated.text
    assert rotated.json()["refresh_token"] != first["refresh_token"]
    assert api.get("/me", token=rotated.json()["access_token"]).status == 200


def test_reusing_an_old_refresh_token_revokes_the_whole_family(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a refresh token that was already rotated, when it is presented again (a thief
    replaying it), then it is refused and the newer token of the same family stops working."""
    first = sign_in(api, USER["waiter"].email)
    newer = refresh(api, first["refresh_token"]).json()["refresh_token"]

    replay = refresh(api, first["refresh_token"])

    assert_invalid_grant(replay)
    assert_invalid_grant(refresh(api, newer))
    event = admin_db.execute(
        "SELECT critical FROM audit_outbox WHERE action = 'auth.refresh_token_reused'"
        " AND actor_user_id = %s",
        (USER["waiter"].id,),
    ).fetchone()
    assert event == (True,)


def test_revoking_a_refresh_token_ends_the_session(api: ApiClient) -> None:
    tokens = sign_in(api, USER["waiter"].email)

    revoked = api.request(
        "POST",
        "/oauth/revoke",
        body=urlencode({"token": tokens["refresh_token"], "client_id": SPA_CLIENT_ID}).encode(),
        headers=FORM,
    )

    assert revoked.status == 200
    assert_invalid_grant(refresh(api, tokens["refresh_token"]))


# --- tills -------------------------------------------------------------------------------------


def test_a_registered_till_gets_a_device_token(api: ApiClient) -> None:
    response = token_request(
        api,
        grant_type="client_credentials",
        client_id=TILL_CLIENT_ID,
        client_secret=TILL_CLIENT_SECRET,
    )

    assert response.status == 200, response.text
    assert response.json()["scope"] == "till"
    assert "refresh_token" not in response.json() or response.json()["refresh_token"] is None
    # A device token alone opens no venue: a till session (a staff PIN) does.
    assert api.get(f"/venues/{CENTRALE}/orders", token=response.json()["access_token"]).status in {
        401,
        403,
    }


def test_a_till_with_a_wrong_secret_is_an_invalid_client(api: ApiClient) -> None:
    response = token_request(
        api, grant_type="client_credentials", client_id=TILL_CLIENT_ID, client_secret="guess"
    )

    assert response.status == 401
    assert response.json()["error"] == "invalid_client"


# --- access follows the account, not the token -----------------------------------------------


@pytest.fixture
def fresh_manager(admin_db: psycopg.Connection) -> str:
    """A manager of nord with the demo password, made for one test."""
    return copy_of_demo_user(admin_db, USER["manager"], with_attachments=True)


def test_issued_tokens_stop_working_when_the_user_is_detached_or_disabled(
    api: ApiClient, admin_db: psycopg.Connection, fresh_manager: str
) -> None:
    tokens = sign_in(api, fresh_manager)
    assert api.get(f"/venues/{NORD}/orders", token=tokens["access_token"]).status == 200

    admin_db.execute(
        "DELETE FROM venue_attachments WHERE user_id = (SELECT id FROM users WHERE email = %s)",
        (fresh_manager,),
    )
    detached = api.get(f"/venues/{NORD}/orders", token=tokens["access_token"])
    admin_db.execute("UPDATE users SET disabled_at = now() WHERE email = %s", (fresh_manager,))
    disabled = api.get("/me", token=tokens["access_token"])

    assert detached.status == 403
    assert disabled.status == 401
    assert_invalid_grant(refresh(api, tokens["refresh_token"]))
