"""Sign-in as the admin SPA and the tills do it, for tests.

The requests and the flow are infra/local/signin.py's (shared with `make token` and the
benchmarks); this module carries them through the in-process gateway (``ApiClient``) and
adds the single steps the tests take apart.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

from infra.local.client import ApiClient, Response
from infra.local.seed import DEMO_PASSWORD, SPA_CLIENT_ID
from infra.local.signin import (
    AUTHORIZE,
    AUTHORIZE_MFA,
    REDIRECT_URI,
    TOKEN,
    Transport,
    authorization_request,
    challenge_for,
    code_exchange,
    demo_totp_code,
    new_verifier,
    sign_in_over_http,
)
from infra.local.signin import sign_in as sign_in_through

__all__ = [
    "FORM",
    "REDIRECT_URI",
    "SOURCE_IP",
    "Started",
    "answer_mfa",
    "assert_invalid_grant",
    "authorize",
    "challenge_for",
    "demo_totp_code",
    "exchange",
    "new_verifier",
    "refresh",
    "sign_in",
    "sign_in_over_http",
    "start",
    "through_gateway",
    "token_request",
]

#: Where the tests' sign-ins come from, unless a test says otherwise.
SOURCE_IP = "198.51.100.7"
FORM = {"content-type": "application/x-www-form-urlencoded"}


@dataclass
class Started:
    """A sign-in that got as far as its one-time code."""

    code: str
    verifier: str


def authorize(
    api: ApiClient,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    verifier: str | None = None,
    source_ip: str = SOURCE_IP,
    **overrides: Any,
) -> Response:
    """POST /oauth/authorize with the SPA's body; ``overrides`` replace its fields."""
    body = authorization_request(
        email, password, verifier=verifier or new_verifier(), **{"state": "s-1", **overrides}
    )
    return api.request("POST", AUTHORIZE, json_body=body, source_ip=source_ip)


def answer_mfa(api: ApiClient, mfa_token: str, **factor: str) -> tuple[int, dict[str, Any]]:
    """POST /oauth/authorize/mfa with ``code=...`` or ``recovery_code=...``."""
    response = api.request("POST", AUTHORIZE_MFA, json_body={"mfa_token": mfa_token, **factor})
    body: dict[str, Any] = response.json()
    return response.status, body


def token_request(api: ApiClient, **form: str) -> Response:
    return api.request("POST", TOKEN, body=urlencode(form).encode(), headers=FORM)


def start(api: ApiClient, email: str) -> Started:
    """A password sign-in up to its code (the account has no second factor)."""
    verifier = new_verifier()
    response = authorize(api, email, verifier=verifier)
    assert response.status == 200, response.text
    assert response.json()["status"] == "authorized"
    return Started(response.json()["code"], verifier)


def exchange(api: ApiClient, started: Started, **overrides: str) -> Response:
    """POST /oauth/token for the started sign-in's code; ``overrides`` replace form fields."""
    return token_request(api, **code_exchange(started.code, started.verifier, **overrides))


def through_gateway(api: ApiClient, source_ip: str = SOURCE_IP) -> Transport:
    """The shared flow's requests through the in-process gateway; every step must succeed."""

    def post(path: str, payload: Mapping[str, Any], *, form: bool = False) -> dict[str, Any]:
        if form:
            body, headers = urlencode(payload).encode(), FORM
            response = api.request("POST", path, body=body, headers=headers, source_ip=source_ip)
        else:
            response = api.request("POST", path, json_body=dict(payload), source_ip=source_ip)
        assert response.status == 200, response.text
        answer: dict[str, Any] = response.json()
        return answer

    return post


def sign_in(api: ApiClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """The whole sign-in through the gateway (answering a TOTP challenge from the demo
    secret); the token endpoint's answer."""
    return sign_in_through(through_gateway(api), email, password)


def refresh(api: ApiClient, refresh_token: str) -> Response:
    return token_request(
        api, grant_type="refresh_token", refresh_token=refresh_token, client_id=SPA_CLIENT_ID
    )


def assert_invalid_grant(response: Response) -> None:
    assert response.status == 400, response.text
    assert response.json()["error"] == "invalid_grant"
