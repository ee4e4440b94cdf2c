"""Input the issuer's routes cannot use is a clear 4xx in the route's own error shape,
never a 500: look-alike digits, NUL characters, absurdly nested token headers."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, SPA_CLIENT_ID, TILL_CLIENT_SECRET, USER
from tests.support.oauth import FORM, Step, answer_mfa, authorize, begin, token_request
from tests.support.second_factor import Enrolled, sign_in_with_second_factor

ARABIC_INDIC_DIGITS = "١٢٣٤٥٦"  # str.isdigit() says yes; they are not a TOTP code


def assert_oauth_error(response: Response, *statuses: int) -> None:
    assert response.status in statuses, response.text
    assert set(response.json()) == {"error", "error_description"}
    assert response.headers["content-type"] == "application/json"


def assert_problem(response: Response, status: int) -> None:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"]


def test_look_alike_digits_as_a_sign_in_code_are_a_refusal(
    api: ApiClient, enrolled_account: Enrolled
) -> None:
    """Given an enrolled account's second factor page, when the code is six Arabic-Indic
    digits, then the answer is the page again saying the code is not right, not a 500."""
    challenge = authorize(api, enrolled_account.email)
    assert challenge.asks_for_second_factor

    response = answer_mfa(challenge, code=ARABIC_INDIC_DIGITS)

    assert response.refused
    assert response.message == "The code is not right."


def test_look_alike_digits_to_remove_the_second_factor_are_a_422(
    api: ApiClient, enrolled_account: Enrolled
) -> None:
    """Given a signed-in enrolled account, when it asks to remove its authenticator with six
    Arabic-Indic digits, then the answer is a 422 problem and the factor stays."""
    tokens = sign_in_with_second_factor(
        api, enrolled_account.email, recovery_code=enrolled_account.recovery_codes[0]
    )

    response = api.request(
        "DELETE",
        "/me/mfa/totp",
        token=tokens["access_token"],
        json_body={"code": ARABIC_INDIC_DIGITS},
    )

    assert_problem(response, 422)
    assert authorize(api, enrolled_account.email).asks_for_second_factor


@pytest.mark.parametrize("field", ["email", "client_id"])
def test_a_nul_character_in_a_sign_in_field_is_a_400_page(api: ApiClient, field: str) -> None:
    """Given a sign-in whose email or client_id carries a NUL character, then the answer is
    a 400 page and no redirect, not a 500 (Postgres text cannot hold NUL)."""
    if field == "email":
        email = USER["waiter"].email
        response: Response | Step = authorize(api, email[:3] + "\x00" + email[3:])
    else:
        response = begin(api, client_id=SPA_CLIENT_ID[:3] + "\x00" + SPA_CLIENT_ID[3:])

    assert response.status == 400, response.text
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert "location" not in response.headers


def test_a_nul_character_in_a_till_client_id_is_an_oauth_error(api: ApiClient) -> None:
    """Given the client-credentials grant with a NUL in client_id, then the token endpoint
    answers in OAuth's error shape (400 or 401), not a 500."""
    response = token_request(
        api,
        grant_type="client_credentials",
        client_id="till-centrale\x00-1",
        client_secret=TILL_CLIENT_SECRET,
    )

    assert_oauth_error(response, 400, 401)


def test_a_nul_character_in_a_revocation_client_id_is_an_oauth_error(api: ApiClient) -> None:
    """Given a revocation whose client_id carries a NUL character, then the answer is 400 in
    OAuth's error shape, not a 500."""
    response = api.request(
        "POST",
        "/oauth/revoke",
        body=urlencode({"token": "x", "client_id": "admin\x00spa"}).encode(),
        headers=FORM,
    )

    assert_oauth_error(response, 400)
    assert response.json()["error"] == "invalid_request"


def nested_header_token() -> str:
    header = base64.urlsafe_b64encode(b'{"a":' * 100_000).rstrip(b"=").decode()
    return f"{header}.e30.c2ln"


@pytest.mark.parametrize("route", ["account.get_me", "orders.list_orders"])
def test_a_deeply_nested_token_header_is_a_401_when_a_handler_is_called_directly(
    api: ApiClient, route: str
) -> None:
    """Given a function invoked around API Gateway, when the bearer token's header is JSON
    nested 100 000 deep, then the gate answers 401, not a 500 from a RecursionError."""
    import importlib

    handler = importlib.import_module(route).handler
    event = {
        "headers": {"authorization": f"Bearer {nested_header_token()}"},
        "pathParameters": {"venue_id": str(CENTRALE)},
        "requestContext": {"http": {"method": "GET", "sourceIp": "203.0.113.9"}},
    }

    response = handler.invoke(event, api.gateway.runtime)

    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"
