"""The client side of sign-in, as a standard client and a browser without JavaScript do it:
authorization code + PKCE through the issuer's own pages.

The client sends the person to ``GET /oauth/authorize`` (a PKCE challenge, a state); the
browser shows the sign-in page, keeps the cookie it sets and posts its form (email and
password, then a TOTP code from the demo secret where the account has a second factor); the
issuer answers with a redirect to the client's redirect URI carrying the code, the state and
its name; the client checks both and exchanges the code at ``POST /oauth/token``.

Shared by `make token` (over real HTTP), the tests (through the in-process gateway) and the
benchmarks: each brings its own way of carrying a request, and the flow is written here once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Any, Protocol
from urllib.parse import parse_qs, urlencode, urlsplit

from infra.local.seed import DEMO_PASSWORD, DEMO_TOTP_SECRET, SPA_CLIENT_ID, SPA_REDIRECT_URIS

__all__ = [
    "AUTHORIZE",
    "AUTHORIZE_MFA",
    "DEFAULT_SCOPE",
    "REDIRECT_URI",
    "TOKEN",
    "Answer",
    "Browser",
    "Form",
    "SignInRefused",
    "Transport",
    "authorization_query",
    "challenge_for",
    "code_exchange",
    "demo_totp_code",
    "forms",
    "new_verifier",
    "over_http",
    "redirect_params",
    "sign_in",
    "sign_in_over_http",
]

AUTHORIZE = "/oauth/authorize"
AUTHORIZE_MFA = "/oauth/authorize/mfa"
TOKEN = "/oauth/token"  # noqa: S105 - a path, not a secret
#: The SPA's first registered redirect URI, where its codes are sent.
REDIRECT_URI = SPA_REDIRECT_URIS[0]
#: What `make token` and the tests ask for: the API's scopes (the SPA adds openid).
DEFAULT_SCOPE = "account venue"
FORM_TYPE = "application/x-www-form-urlencoded"


def new_verifier() -> str:
    """A PKCE code verifier (RFC 7636): 64 URL-safe characters."""
    return secrets.token_urlsafe(48)


def challenge_for(verifier: str) -> str:
    """The S256 code challenge of ``verifier``."""
    digest = hashlib.sha256(verifier.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_query(verifier: str, *, state: str | None, **overrides: str | None) -> str:
    """``/oauth/authorize?...``, the SPA's authorization request; ``overrides`` replace or
    add parameters (None leaves one out)."""
    params: dict[str, str | None] = {
        "response_type": "code",
        "client_id": SPA_CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "scope": DEFAULT_SCOPE,
        "state": state,
        "code_challenge": challenge_for(verifier),
        "code_challenge_method": "S256",
        **overrides,
    }
    return AUTHORIZE + "?" + urlencode({k: v for k, v in params.items() if v is not None})


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


# --- carrying requests ------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    #: Lower-case names; several Set-Cookie values are joined by newlines.
    headers: Mapping[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


class Transport(Protocol):
    """Carries one request to the issuer as it is (a redirect is answered, not followed)."""

    def __call__(
        self, method: str, target: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer: ...


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def over_http(base_url: str) -> Transport:
    """A transport over real HTTP to the backend at ``base_url`` (the local stack only).
    Nothing listening raises ``urllib.error.URLError``."""
    opener = urllib.request.build_opener(_NoRedirects)

    def send(method: str, target: str, *, headers: Mapping[str, str], body: bytes = b"") -> Answer:
        request = urllib.request.Request(  # noqa: S310 - the local gateway only
            base_url + target, data=body or None, method=method, headers=dict(headers)
        )
        try:
            with opener.open(request, timeout=10) as response:
                status, raw, data = response.status, response.headers, response.read()
        except urllib.error.HTTPError as error:
            status, raw, data = error.code, error.headers, error.read()
        names = {name.lower() for name in raw}
        joined = {name: "\n".join(raw.get_all(name) or []) for name in names}
        return Answer(status, joined, data)

    return send


# --- what a browser does with the pages --------------------------------------------------------


@dataclass
class Form:
    action: str
    method: str
    #: Every named input with its value (hidden ones as the page set them).
    fields: dict[str, str] = field(default_factory=dict)


class _Forms(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.forms: list[Form] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.forms.append(Form(values.get("action", ""), values.get("method", "get").lower()))
        elif tag == "input" and self.forms and "name" in values:
            self.forms[-1].fields[values["name"]] = values.get("value", "")


def forms(html: str) -> list[Form]:
    """The forms of a page, in order."""
    parser = _Forms()
    parser.feed(html)
    return parser.forms


class SignInRefused(Exception):
    """The issuer answered a sign-in step with something other than the next step."""


class Browser:
    """A browser without JavaScript: it keeps the cookies the issuer sets, reads the forms
    of the page it is shown and posts them; a redirect to the client is where it stops."""

    def __init__(self, transport: Transport, user_agent: str = "venue-sign-in") -> None:
        self.transport = transport
        self.cookies: dict[str, str] = {}
        self.user_agent = user_agent

    def send(
        self, method: str, target: str, body: bytes = b"", content_type: str | None = None
    ) -> Answer:
        """One request as this browser sends it: with its cookies, keeping those it is set."""
        headers = {"user-agent": self.user_agent}
        if self.cookies:
            headers["cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if content_type:
            headers["content-type"] = content_type
        answer = self.transport(method, target, headers=headers, body=body)
        for line in answer.headers.get("set-cookie", "").split("\n"):
            name, sep, rest = line.partition("=")
            if sep and name.strip():
                self.cookies[name.strip()] = rest.split(";")[0]
        return answer

    def get(self, target: str) -> Answer:
        return self.send("GET", target)

    def post(self, target: str, fields: Mapping[str, str]) -> Answer:
        return self.send("POST", target, urlencode(fields).encode(), FORM_TYPE)

    def submit(
        self, page: Answer, values: Mapping[str, str], *, action: str | None = None
    ) -> Answer:
        """Fill in the page's form (the one posting to ``action``, else the first form that
        has every field of ``values``) and post it, hidden fields as the page set them."""
        for form in forms(page.text):
            if (action is None and set(values) <= set(form.fields)) or form.action == action:
                return self.post(form.action, {**form.fields, **values})
        raise SignInRefused(f"no form for {sorted(values)} on the page ({page.status})")


def redirect_params(answer: Answer, redirect_uri: str = REDIRECT_URI) -> dict[str, str]:
    """The parameters of a redirect to ``redirect_uri`` (one value each)."""
    location = answer.headers.get("location", "")
    if answer.status not in (302, 303) or not location.startswith(redirect_uri + "?"):
        raise SignInRefused(f"no redirect to {redirect_uri}: {answer.status} {location}")
    return {name: values[0] for name, values in parse_qs(urlsplit(location).query).items()}


def sign_in(
    transport: Transport,
    email: str,
    password: str = DEMO_PASSWORD,
    *,
    scope: str = DEFAULT_SCOPE,
    issuer: str | None = None,
) -> dict[str, Any]:
    """The whole sign-in, as a browser and the SPA do it; the token endpoint's answer. The
    state and, when ``issuer`` is given, the ``iss`` of the redirect are checked."""
    browser = Browser(transport)
    verifier, state = new_verifier(), secrets.token_urlsafe(16)
    page = browser.get(authorization_query(verifier, state=state, scope=scope))
    if page.status != 200:
        raise SignInRefused(f"{AUTHORIZE}: {page.status} {page.text[:200]}")
    answer = browser.submit(page, {"email": email, "password": password})
    if answer.status == 200 and any(f.action == AUTHORIZE_MFA for f in forms(answer.text)):
        answer = browser.submit(answer, {"code": demo_totp_code()}, action=AUTHORIZE_MFA)
    params = redirect_params(answer)
    if params.get("state") != state or (issuer is not None and params.get("iss") != issuer):
        raise SignInRefused(f"the redirect does not answer this request: {sorted(params)}")
    if "code" not in params:
        raise SignInRefused(f"the sign-in was refused: {params.get('error')}")
    form = urlencode(code_exchange(params["code"], verifier)).encode()
    tokens = transport("POST", TOKEN, headers={"content-type": FORM_TYPE}, body=form)
    if tokens.status != 200:
        raise SignInRefused(f"{TOKEN}: {tokens.status} {tokens.text}")
    result: dict[str, Any] = tokens.json()
    return result


def sign_in_over_http(base_url: str, email: str, password: str = DEMO_PASSWORD) -> dict[str, Any]:
    """Sign in at the backend listening on ``base_url``, as a browser and the SPA would."""
    return sign_in(over_http(base_url), email, password, issuer=base_url)
