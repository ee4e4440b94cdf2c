"""Sign-in as a browser and the admin SPA do it, and as the tills do it, for tests.

The flow is infra/local/signin.py's (shared with `make token` and the benchmarks); this
module carries it through the in-process gateway (``ApiClient``) and adds the single steps
the tests take apart: the sign-in page of an authorization request, its form posted, the
second factor's page answered, the redirect read.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from html import unescape
from typing import Any
from urllib.parse import urlencode

from infra.local.client import ApiClient, Response
from infra.local.seed import DEMO_PASSWORD, SPA_CLIENT_ID
from infra.local.signin import (
    AUTHORIZE_MFA,
    REDIRECT_URI,
    TOKEN,
    Answer,
    Browser,
    Transport,
    authorization_query,
    challenge_for,
    code_exchange,
    demo_totp_code,
    forms,
    new_verifier,
    redirect_params,
    sign_in_over_http,
)
from infra.local.signin import sign_in as sign_in_through

__all__ = [
    "FORM",
    "REDIRECT_URI",
    "SOURCE_IP",
    "Started",
    "Step",
    "answer_mfa",
    "assert_invalid_grant",
    "authorize",
    "begin",
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
_ALERT = re.compile(r'<p class="alert" role="alert" id="message">(.*?)</p>', re.S)


def through_gateway(api: ApiClient, source_ip: str = SOURCE_IP) -> Transport:
    """Requests carried through the in-process gateway, as if from ``source_ip``."""

    def send(method: str, target: str, *, headers: Mapping[str, str], body: bytes = b"") -> Answer:
        status, answered, data = api.gateway.handle(
            method, target, dict(headers), body, source_ip=source_ip
        )
        return Answer(status, {k.lower(): v for k, v in answered.items()}, data)

    return send


@dataclass
class Step:
    """One answer of the sign-in, in the browser that got it."""

    browser: Browser
    answer: Answer
    verifier: str
    state: str

    @property
    def status(self) -> int:
        return self.answer.status

    @property
    def headers(self) -> Mapping[str, str]:
        return self.answer.headers

    @property
    def body(self) -> bytes:
        return self.answer.body

    @property
    def text(self) -> str:
        return self.answer.text

    @property
    def message(self) -> str | None:
        """The page's alert, as a person reads it."""
        found = _ALERT.search(self.text)
        return unescape(found.group(1)) if found else None

    @property
    def asks_for_second_factor(self) -> bool:
        return self.status == 200 and any(f.action == AUTHORIZE_MFA for f in forms(self.text))

    @property
    def refused(self) -> bool:
        """The sign-in page again, saying no (and no redirect)."""
        return self.status == 400 and "location" not in self.headers and bool(self.message)

    @property
    def redirect(self) -> dict[str, str]:
        """The parameters of the redirect to the client (raises if there is none)."""
        return redirect_params(self.answer)

    @property
    def code(self) -> str:
        params = self.redirect
        assert params.get("state") == self.state, params
        return params["code"]

    def then(self, answer: Answer) -> Step:
        return Step(self.browser, answer, self.verifier, self.state)


@dataclass
class Started:
    """A sign-in that got as far as its one-time code."""

    code: str
    verifier: str


def begin(
    api: ApiClient,
    *,
    verifier: str | None = None,
    source_ip: str = SOURCE_IP,
    **params: str | None,
) -> Step:
    """GET /oauth/authorize with the SPA's request (``params`` replace or add parameters,
    None leaves one out): the sign-in page, in a browser of its own."""
    verifier = verifier or new_verifier()
    state = params.pop("state", secrets.token_urlsafe(12))
    browser = Browser(through_gateway(api, source_ip))
    answer = browser.get(authorization_query(verifier, state=state, **params))
    return Step(browser, answer, verifier, state or "")


def authorize(
    api: ApiClient,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    verifier: str | None = None,
    source_ip: str = SOURCE_IP,
    **params: str | None,
) -> Step:
    """The sign-in page of a new authorization request, its form posted with ``email`` and
    ``password``: the second factor's page, the redirect with the code, or a refusal."""
    page = begin(api, verifier=verifier, source_ip=source_ip, **params)
    assert page.status == 200, page.text
    return page.then(page.browser.submit(page.answer, {"email": email, "password": password}))


def answer_mfa(step: Step, **factor: str) -> Step:
    """The second factor's page answered with ``code=...`` or ``recovery_code=...`` (in the
    form that has that field)."""
    (name,) = factor
    for form in forms(step.text):
        if form.action == AUTHORIZE_MFA and name in form.fields:
            return step.then(step.browser.post(AUTHORIZE_MFA, {**form.fields, **factor}))
    raise AssertionError(f"no second factor form with {name} on the page:\n{step.text}")


def token_request(api: ApiClient, **form: str) -> Response:
    return api.request("POST", TOKEN, body=urlencode(form).encode(), headers=FORM)


def start(api: ApiClient, email: str) -> Started:
    """A password sign-in up to its code (the account has no second factor)."""
    step = authorize(api, email)
    return Started(step.code, step.verifier)


def exchange(api: ApiClient, started: Started, **overrides: str) -> Response:
    """POST /oauth/token for the started sign-in's code; ``overrides`` replace form fields."""
    return token_request(api, **code_exchange(started.code, started.verifier, **overrides))


def sign_in(api: ApiClient, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """The whole sign-in through the gateway (answering the second factor's page from the
    demo secret); the token endpoint's answer."""
    return sign_in_through(through_gateway(api), email, password)


def refresh(api: ApiClient, refresh_token: str) -> Response:
    return token_request(
        api, grant_type="refresh_token", refresh_token=refresh_token, client_id=SPA_CLIENT_ID
    )


def assert_invalid_grant(response: Response) -> None:
    assert response.status == 400, response.text
    assert response.json()["error"] == "invalid_grant"
