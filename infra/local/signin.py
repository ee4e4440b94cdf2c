"""The client side of sign-in, as the admin SPA does it: authorization code + PKCE, the
TOTP challenge answered from the demo secret where the account has a second factor, and
the code exchanged for tokens.

Shared by `make token` (over real HTTP), the tests (through the in-process gateway) and the
benchmarks (the issuer's service called directly): each brings its own way of carrying the
requests, and the requests themselves are built here once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from typing import Any, Protocol
from urllib.parse import urlencode

from infra.local.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, SPA_CLIENT_ID, SPA_REDIRECT_URIS

__all__ = [
    "AUTHORIZE",
    "AUTHORIZE_MFA",
    "REDIRECT_URI",
    "TOKEN",
    "SignInRefused",
    "Transport",
    "authorization_request",
    "challenge_for",
    "code_exchange",
    "demo_totp_code",
    "new_verifier",
    "over_http",
    "second_factor",
    "sign_in",
    "sign_in_over_http",
]

AUTHORIZE = "/oauth/authorize"
AUTHORIZE_MFA = "/oauth/authorize/mfa"
TOKEN = "/oauth/token"  # noqa: S105 - a path, not a secret
#: The SPA's first registered redirect URI, where its codes are sent.
REDIRECT_URI = SPA_REDIRECT_URIS[0]


def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636): 64 URL-safe characters."""
    return secrets.token_urlsafe(48)


def challenge_for(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_request(
    email: str, password: str = DEMO_PASSWORD, *, verifier: str, **overrides: Any
) -> dict[str, Any]:
    """The SPA's JSON body for POST /oauth/authorize; ``overrides`` replace or add fields."""
    return {
        "email": email,
        "password": password,
        "client_id": SPA_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "code_challenge": challenge_for(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }


def code_exchange(code: str, verifier: str, **overrides: str) -> dict[str, str]:
    """The form for POST /oauth/token that exchanges ``code``; ``overrides`` replace fields."""
    return {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "client_id": SPA_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        **overrides,
    }


def demo_totp_code() -> str:
    """The current TOTP code of the demo authenticator (the platform admin's)."""
    import pyotp

    return str(pyotp.TOTP(DEMO_TOTP_SECRET).now())


def second_factor(mfa_token: str, code: str | None = None) -> dict[str, str]:
    """The JSON body for POST /oauth/authorize/mfa: ``code``, or the demo authenticator's."""
    return {"mfa_token": mfa_token, "code": code or demo_totp_code()}


class Transport(Protocol):
    """Carries one POST to the issuer and returns its JSON answer (a success: refusals are
    the transport's to raise). ``form``: send ``payload`` form-encoded rather than as JSON."""

    def __call__(
        self, path: str, payload: Mapping[str, Any], *, form: bool = False
    ) -> dict[str, Any]: ...


def sign_in(post: Transport, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """The whole sign-in: the token endpoint's answer (access and refresh token)."""
    verifier = new_verifier()
    step = post(AUTHORIZE, authorization_request(email, password, verifier=verifier))
    if step["status"] == "mfa_required":
        step = post(AUTHORIZE_MFA, second_factor(step["mfa_token"]))
    return post(TOKEN, code_exchange(step["code"], verifier), form=True)


class SignInRefused(Exception):
    """The issuer answered a sign-in step with an error."""


def over_http(base_url: str) -> Transport:
    """A transport over real HTTP to the backend at ``base_url`` (the local stack only).

    A refused step raises ``SignInRefused``; nothing listening raises ``urllib.error.URLError``.
    """

    def post(path: str, payload: Mapping[str, Any], *, form: bool = False) -> dict[str, Any]:
        if form:
            body, content_type = urlencode(payload).encode(), "application/x-www-form-urlencoded"
        else:
            body, content_type = json.dumps(payload).encode(), "application/json"
        request = urllib.request.Request(  # noqa: S310 - the local gateway only
            base_url + path, data=body, method="POST", headers={"content-type": content_type}
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                result: dict[str, Any] = json.load(response)
                return result
        except urllib.error.HTTPError as error:
            raise SignInRefused(f"{base_url}{path}: {error.code} {error.read().decode()}") from None

    return post


def sign_in_over_http(base_url: str, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Sign in at the backend listening on ``base_url``, as the admin SPA would."""
    return sign_in(over_http(base_url), email, password)
