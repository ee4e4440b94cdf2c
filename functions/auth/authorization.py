"""The authorization endpoint as RFC 6749 §4.1, RFC 7636, RFC 9207 and OpenID Connect Core
define it: a client's request checked, kept while the person signs in on the issuer's pages,
and answered with a redirect to the client's registered redirect URI.

- An unknown client or a redirect URI that is not exactly one the client registered is
  told to the person on an error page and never redirected to (§4.1.2.1).
- Anything else wrong is a redirect with ``error``, the client's ``state`` when it was a
  valid one (never repaired, never invented) and ``iss``.
- Every form of the pages carries the request's id and a CSRF token bound to it, and the
  browser a cookie bound to it too: a form posted from elsewhere, or from another request,
  or in another browser, goes nowhere.
"""

from __future__ import annotations

import datetime as dt
import hmac
import re
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import psycopg

from auth import pages, queries
from auth.checks import IDENTITY_SCOPES
from auth.config import Issuer
from auth.models import AuthorizationQuery, PageForm
from tenancy import HtmlPage, Problem, Redirect
from tenancy.links import digest, new_secret

__all__ = [
    "IDENTITY_SCOPES",
    "Pending",
    "browser_cookie",
    "pending",
    "queue_pending",
    "redirect_with",
    "start",
]

#: Scopes a person's sign-in may ask for: OpenID Connect's and the API's.
API_SCOPES = frozenset({"account", "venue"})
REQUESTABLE_SCOPES = IDENTITY_SCOPES | API_SCOPES
#: A client that asks for no scope gets the API's (what the admin SPA always had).
DEFAULT_SCOPE = "account venue"

#: RFC 6749 Appendix A.5: state is 1*VSCHAR; longer than this is refused, not cut.
_STATE = re.compile(r"[\x20-\x7e]{1,512}")
_NONCE = _STATE
_CHALLENGE = re.compile(r"[A-Za-z0-9_-]{43,128}")
_CLIENT_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,63}")
_REDIRECT_URI = re.compile(r"[\x21-\x7e]{1,2048}")
_UNKNOWN_CLIENT = "The request does not name an app this issuer knows."
_UNREGISTERED = "The address to return to is not one this app registered."
_NOT_REGISTERED = "The app, or the address to return to, is not one registered with this issuer."
_EMAIL_HINT = re.compile(r"[^\x00-\x1f\x7f]{3,320}")
_BROWSER = re.compile(r"[A-Za-z0-9_-]{43}")
#: The parameters a repeat of which is refused (RFC 6749 §3.1); others are ignored.
_KNOWN = frozenset(AuthorizationQuery.documented) | {"request", "request_uri", "max_age"}


# --- the browser's cookie ---------------------------------------------------------------------


def _cookie_name(issuer: Issuer) -> str:
    """``__Host-`` (Secure, the host only, path /) wherever the issuer is served over HTTPS;
    a plain name on the plain-HTTP local stack, where a Secure cookie would not be sent."""
    return "__Host-authz" if _secure(issuer) else "authz"


def _secure(issuer: Issuer) -> bool:
    return issuer.settings.token_issuer.startswith("https://")


def browser_cookie(issuer: Issuer, value: str) -> str:
    """The ``Set-Cookie`` value binding this browser to the sign-ins it starts: for this
    browser session only, never sent by script, nor with another site's form."""
    attributes = "Path=/; Secure" if _secure(issuer) else "Path=/oauth"
    return f"{_cookie_name(issuer)}={value}; {attributes}; HttpOnly; SameSite=Lax"


def _browser(issuer: Issuer, cookies: Mapping[str, str]) -> str | None:
    value = cookies.get(_cookie_name(issuer), "")
    return value if _BROWSER.fullmatch(value) else None


# --- answers to the client --------------------------------------------------------------------


def redirect_with(redirect_uri: str, params: Mapping[str, str], *, status: int) -> Redirect:
    """A redirect to ``redirect_uri`` with ``params`` added to its query (a registered URI
    may carry a query of its own, which is kept)."""
    parts = urlsplit(redirect_uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return Redirect(urlunsplit(parts._replace(query=urlencode(query))), status=status)


class _Refusal(Exception):
    """A request that can be answered at its redirect URI: ``error`` (RFC 6749 §4.1.2.1)."""

    def __init__(self, error: str, description: str) -> None:
        super().__init__(description)
        self.error = error
        self.description = description


def _error_page(detail: str) -> HtmlPage:
    return pages.notice(
        "This sign-in link is not right",
        detail,
        "Nothing was sent back to the app. Go back to it and sign in from there.",
        status=400,
    )


# --- the request ------------------------------------------------------------------------------


def _one(query: AuthorizationQuery, name: str) -> str | None:
    """The parameter's value; a repeat is refused (RFC 6749 §3.1)."""
    values = query.values(name)
    if len(values) > 1:
        raise _Refusal("invalid_request", f"{name} is given more than once")
    return values[0] if values else None


def _client_and_redirect(query: AuthorizationQuery) -> tuple[str, str]:
    """The client id and redirect URI, once each and well formed, or the error page's
    refusal (whether the client registered that URI is the database's to say)."""
    ids, uris = query.values("client_id"), query.values("redirect_uri")
    if len(ids) != 1 or not _CLIENT_ID.fullmatch(ids[0]):
        raise Problem(400, "invalid_request", _UNKNOWN_CLIENT)
    if len(uris) != 1 or not _REDIRECT_URI.fullmatch(uris[0]):
        raise Problem(400, "invalid_request", _UNREGISTERED)
    return ids[0], uris[0]


def _registered(conn: psycopg.Connection, client_id: str, redirect_uri: str) -> bool:
    client = queries.client(conn, client_id)
    return (
        client is not None and client["kind"] == "spa" and redirect_uri in client["redirect_uris"]
    )


def _check(query: AuthorizationQuery, client_id: str, redirect_uri: str) -> queries.NewRequest:
    """Everything but the client and its redirect URI; a refusal names what is wrong."""
    repeated = sorted({n for n, _ in query.pairs if n in _KNOWN and len(query.values(n)) > 1})
    if repeated:
        raise _Refusal("invalid_request", f"{repeated[0]} is given more than once")
    if _one(query, "request") is not None:
        raise _Refusal("request_not_supported", "request objects are not supported")
    if _one(query, "request_uri") is not None:
        raise _Refusal("request_uri_not_supported", "request_uri is not supported")
    state = _one(query, "state")
    if state is None or not _STATE.fullmatch(state):
        raise _Refusal("invalid_request", "state is required: 1 to 512 visible ASCII characters")
    response_type = _one(query, "response_type")
    if response_type is None:
        raise _Refusal("invalid_request", "response_type is required")
    if response_type != "code":
        raise _Refusal("unsupported_response_type", "only response_type=code is supported")
    if _one(query, "response_mode") not in (None, "query"):
        raise _Refusal("invalid_request", "only response_mode=query is supported")
    if _one(query, "code_challenge_method") != "S256":
        raise _Refusal("invalid_request", "PKCE with code_challenge_method=S256 is required")
    challenge = _one(query, "code_challenge")
    if challenge is None or not _CHALLENGE.fullmatch(challenge):
        raise _Refusal("invalid_request", "code_challenge is not an S256 challenge")
    scopes = (_one(query, "scope") or "").split(" ")
    asked = [scope for scope in scopes if scope]
    if any(scope not in REQUESTABLE_SCOPES for scope in asked):
        raise _Refusal("invalid_scope", "a requested scope is not one this issuer grants")
    scope = " ".join(dict.fromkeys(asked)) if asked else DEFAULT_SCOPE
    nonce = _one(query, "nonce")
    if nonce is not None and not _NONCE.fullmatch(nonce):
        raise _Refusal("invalid_request", "nonce must be 1 to 512 visible ASCII characters")
    if "none" in (_one(query, "prompt") or "").split(" "):
        # The issuer keeps no sign-in of its own to reuse: a person must always sign in.
        raise _Refusal("login_required", "the person must sign in")
    return queries.NewRequest(
        client_id=client_id,
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        state=state,
        scope=scope,
        nonce=nonce if "openid" in scope.split(" ") else None,
    )


def start(
    conn: psycopg.Connection,
    issuer: Issuer,
    query: AuthorizationQuery,
    cookies: Mapping[str, str],
) -> HtmlPage | Redirect:
    """GET /oauth/authorize: the sign-in page for a valid request, a redirect with the error
    for an invalid one, an error page when the client or its redirect URI is not right. One
    statement either way: the client's registration is checked with the request it keeps."""
    try:
        client_id, redirect_uri = _client_and_redirect(query)
    except Problem as problem:
        return _error_page(problem.detail)
    try:
        request = _check(query, client_id, redirect_uri)
    except _Refusal as refusal:
        if not _registered(conn, client_id, redirect_uri):
            return _error_page(_NOT_REGISTERED)
        state_values = query.values("state")
        params = {"error": refusal.error, "error_description": refusal.description}
        if len(state_values) == 1 and _STATE.fullmatch(state_values[0]):
            params["state"] = state_values[0]
        params["iss"] = issuer.settings.token_issuer
        return redirect_with(redirect_uri, params, status=302)

    browser = _browser(issuer, cookies) or new_secret()
    csrf = new_secret()
    request_id = uuid.uuid4()
    queries.without_waiting_for_the_flush(conn)
    client = queries.start_authorization_request(
        conn,
        request_id,
        request,
        csrf_hash=digest(csrf),
        browser_hash=digest(browser),
        seconds=issuer.settings.authorization_request_seconds,
    )
    if client is None:
        return _error_page(_NOT_REGISTERED)
    hint = _one_or_none(query, "login_hint")
    pending_request = Pending(
        id=request_id,
        csrf=csrf,
        client_id=request.client_id,
        client_name=client["name"],
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        state=request.state,
        scope=request.scope,
        nonce=request.nonce,
        step="password",
        user_id=None,
        amr=(),
        acr=None,
    )
    return sign_in_page(
        pending_request,
        email=hint if hint and _EMAIL_HINT.fullmatch(hint) else "",
        cookies=(browser_cookie(issuer, browser),),
    )


def _one_or_none(query: AuthorizationQuery, name: str) -> str | None:
    values = query.values(name)
    return values[0] if len(values) == 1 else None


# --- a request in progress --------------------------------------------------------------------


@dataclass(frozen=True)
class Pending:
    """An authorization request in progress, as the form that continues it proved it."""

    id: uuid.UUID
    #: The token this request's forms carry (from the form that was posted).
    csrf: str
    client_id: str
    client_name: str
    redirect_uri: str
    code_challenge: str
    state: str
    scope: str
    nonce: str | None
    step: str
    user_id: uuid.UUID | None
    amr: tuple[str, ...]
    acr: str | None
    #: When the last factor so far was proven; None: in this transaction (now).
    auth_time: dt.datetime | None = None


def _gone() -> Problem:
    return Problem(
        400,
        "sign-in-expired",
        "This sign-in cannot go on: it has expired, was finished, or was started in another"
        " browser.",
    )


def pending(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: PageForm,
    cookies: Mapping[str, str],
    *,
    step: str | None,
) -> Pending:
    """The request a sign-in form continues, locked: it exists and lasts, waits for
    ``step`` (any step but done, for None), and the form's CSRF token and the browser's
    cookie are the ones bound to it. Anything else is one refusal (``sign-in-expired``),
    whatever failed."""
    return queue_pending(conn, form)(issuer, cookies, step=step)


class PendingReader(Protocol):
    def __call__(
        self, issuer: Issuer, cookies: Mapping[str, str], *, step: str | None
    ) -> Pending: ...


def queue_pending(conn: psycopg.Connection, form: PageForm) -> PendingReader:
    """``pending``, its statement sent now and its checks made when called, so what the
    caller sends in between travels in the same round trip."""
    try:
        request_id = uuid.UUID(form.request)
    except ValueError:
        raise _gone() from None
    read = queries.authorization_request(conn, request_id)

    def check(issuer: Issuer, cookies: Mapping[str, str], *, step: str | None) -> Pending:
        row = read()
        browser = _browser(issuer, cookies)
        if (
            row is None
            or browser is None
            or not hmac.compare_digest(bytes(row["csrf_hash"]), digest(form.csrf))
            or not hmac.compare_digest(bytes(row["browser_hash"]), digest(browser))
            or row["step"] != (step or row["step"])
            or row["step"] == "done"
        ):
            raise _gone()
        return Pending(
            id=row["id"],
            csrf=form.csrf,
            client_id=row["client_id"],
            client_name=row["client_name"],
            redirect_uri=row["redirect_uri"],
            code_challenge=row["code_challenge"],
            state=row["state"],
            scope=row["scope"],
            nonce=row["nonce"],
            step=row["step"],
            user_id=row["user_id"],
            amr=tuple(row["amr"] or ()),
            acr=row["acr"],
            auth_time=row["auth_time"],
        )

    return check


# --- the pages of a request -------------------------------------------------------------------


def _page(
    template: str,
    request: Pending,
    *,
    title: str,
    action: str,
    status: int = 200,
    message: str | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: tuple[str, ...] = (),
    **context: Any,
) -> HtmlPage:
    return pages.render(
        template,
        title=title,
        status=status,
        message=message,
        client_name=request.client_name,
        redirect_uri=request.redirect_uri,
        headers=headers,
        cookies=cookies,
        action=action,
        request_id=str(request.id),
        csrf=request.csrf,
        **context,
    )


def sign_in_page(
    request: Pending,
    *,
    email: str = "",
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    cookies: tuple[str, ...] = (),
) -> HtmlPage:
    return _page(
        "sign_in.html",
        request,
        title="Sign in",
        action=pages.AUTHORIZE,
        reset_action=pages.PASSWORD_RESET,
        email=email,
        message=message,
        status=status,
        headers=headers,
        cookies=cookies,
    )


def second_factor_page(
    request: Pending,
    *,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HtmlPage:
    return _page(
        "second_factor.html",
        request,
        title="Second factor",
        action=pages.MFA,
        message=message,
        status=status,
        headers=headers,
    )


def enrolment_page(
    request: Pending,
    *,
    secret: str,
    otpauth_uri: str,
    message: str | None = None,
    status: int = 200,
) -> HtmlPage:
    return _page(
        "enrol.html",
        request,
        title="Set up a second factor",
        action=pages.ENROL,
        secret=secret,
        otpauth_uri=otpauth_uri,
        message=message,
        status=status,
    )


def recovery_codes_page(request: Pending, codes: list[str]) -> HtmlPage:
    return _page(
        "recovery_codes.html",
        request,
        title="Your recovery codes",
        action=pages.CONTINUE,
        recovery_codes=codes,
    )
