"""The authorization endpoint against open redirects, mix-ups and forged forms: a redirect
URI not registered is never redirected to, a state is never repaired or invented, every
answer names its issuer (RFC 9207), and a form only continues the request it came from, in
the browser that started it."""

from __future__ import annotations

import uuid
from typing import Any
from urllib.parse import quote

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.keys import LOCAL_ISSUER
from infra.local.seed import DEMO_PASSWORD, SPA_CLIENT_ID, TILL_CLIENT_ID, USER
from infra.local.signin import AUTHORIZE, Browser, authorization_query, forms, new_verifier
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import REDIRECT_URI, Step, authorize, begin, through_gateway

#: Near misses of the registered http://127.0.0.1:5173/callback.
UNREGISTERED = {
    "prefix": "http://127.0.0.1:5173/callbac",
    "suffix": "http://127.0.0.1:5173/callback/more",
    "extra query": "http://127.0.0.1:5173/callback?next=https://evil.example",
    "fragment": "http://127.0.0.1:5173/callback#x",
    "trailing slash": "http://127.0.0.1:5173/callback/",
    "other port": "http://127.0.0.1:5174/callback",
    "no port": "http://127.0.0.1/callback",
    "other scheme": "https://127.0.0.1:5173/callback",
    "other host": "http://127.0.0.1.evil.example:5173/callback",
    "userinfo": "http://127.0.0.1:5173@evil.example/callback",
    "upper-case scheme": "HTTP://127.0.0.1:5173/callback",
    "dot segments": "http://127.0.0.1:5173/callback/../evil",
    "encoded slash": "http://127.0.0.1:5173/callback%2F..%2Fevil",
    "encoded twice": quote(REDIRECT_URI, safe=""),
    "encoded NUL": "http://127.0.0.1:5173/callback\x00",
    "another client's": "https://evil.example/callback",
    "empty": "",
}


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def requests_kept(admin_db: psycopg.Connection) -> int:
    row = admin_db.execute("SELECT count(*) FROM authorization_requests").fetchone()
    assert row is not None
    return int(row[0])


def assert_error_page(step: Step) -> None:
    """The person is told, the client is not sent anything: no redirect, anywhere."""
    assert step.status == 400, step.text
    assert "location" not in step.headers
    assert step.headers["content-type"] == "text/html; charset=utf-8"
    assert "evil.example" not in step.text
    assert "<form" not in step.text


@pytest.mark.parametrize("redirect_uri", UNREGISTERED.values(), ids=UNREGISTERED.keys())
def test_a_redirect_uri_not_registered_gets_an_error_page_and_no_redirect(
    api: ApiClient, admin_db: psycopg.Connection, redirect_uri: str
) -> None:
    """Given the SPA's request with a redirect URI that is not exactly one it registered
    (however near), when it reaches the authorization endpoint, then the answer is an error
    page, no redirect, and no authorization request is kept."""
    before = requests_kept(admin_db)

    step = begin(api, redirect_uri=redirect_uri)

    assert_error_page(step)
    assert requests_kept(admin_db) == before


@pytest.mark.parametrize(
    "client_id",
    [None, "", "nobody-knows-me", TILL_CLIENT_ID, SPA_CLIENT_ID.upper(), "admin-spa\x00"],
    ids=["missing", "empty", "unknown", "a till", "upper-case", "NUL"],
)
def test_an_unknown_client_gets_an_error_page_and_no_redirect(
    api: ApiClient, client_id: str | None
) -> None:
    """Given a request naming no client, an unknown one, or a till (which never signs a
    person in), then the answer is an error page, even with a registered redirect URI."""
    assert_error_page(begin(api, client_id=client_id))


def test_a_repeated_client_or_redirect_uri_gets_an_error_page(api: ApiClient) -> None:
    """Given the registered redirect URI sent twice, or once with an unregistered one, or
    the client id twice, then none of them is trusted: an error page (RFC 6749 §3.1)."""
    verifier = new_verifier()
    base = authorization_query(verifier, state="s")
    browser = Browser(through_gateway(api))

    for extra in (
        f"&redirect_uri={quote(REDIRECT_URI, safe='')}",
        "&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        f"&client_id={SPA_CLIENT_ID}",
    ):
        answer = browser.get(base + extra)
        assert_error_page(Step(browser, answer, verifier, "s"))


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"response_type": None}, "invalid_request"),
        ({"code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": None}, "invalid_request"),
        ({"code_challenge": "too-short"}, "invalid_request"),
        ({"scope": "account admin"}, "invalid_scope"),
        ({"scope": "openid", "nonce": "x\x01y"}, "invalid_request"),
        ({"prompt": "none"}, "login_required"),
        ({"request_uri": "urn:ietf:params:oauth:request_uri:x"}, "request_uri_not_supported"),
        ({"request": "eyJ..."}, "request_not_supported"),
        ({"response_mode": "fragment"}, "invalid_request"),
    ],
    ids=lambda value: str(value),
)
def test_other_errors_go_back_to_the_client_with_state_and_iss(
    api: ApiClient, overrides: dict[str, Any], error: str
) -> None:
    """Given a request from a known client to its registered redirect URI that is wrong in
    another way, then the client is told at that URI: the error, its state exactly as sent,
    and this issuer's name (RFC 6749 §4.1.2.1, RFC 9207); never a code."""
    step = begin(api, state="s t+u/v=w&x?y%z", **overrides)

    assert step.status == 302, step.text
    assert step.redirect["error"] == error
    assert step.redirect["state"] == "s t+u/v=w&x?y%z"
    assert step.redirect["iss"] == LOCAL_ISSUER
    assert "code" not in step.redirect


def test_a_repeated_parameter_is_refused_at_the_redirect_uri(api: ApiClient) -> None:
    """Given a request that names its scope twice, then the client is told invalid_request."""
    verifier = new_verifier()
    browser = Browser(through_gateway(api))

    answer = browser.get(authorization_query(verifier, state="s") + "&scope=openid")
    step = Step(browser, answer, verifier, "s")

    assert step.redirect["error"] == "invalid_request"
    assert step.redirect["state"] == "s"


@pytest.mark.parametrize(
    "state",
    [None, "", "x" * 513, "caf\u00e9", "tab\there", "nul\x00"],
    ids=["missing", "empty", "too long", "non-ASCII", "control character", "NUL"],
)
def test_a_missing_or_malformed_state_is_never_repaired(
    api: ApiClient, admin_db: psycopg.Connection, state: str | None
) -> None:
    """Given a request with no state, or one that is not a state (RFC 6749: visible ASCII),
    then the client is told invalid_request without any state: the issuer neither invents
    one nor sends back a repaired one, and keeps no request to sign in to."""
    before = requests_kept(admin_db)

    step = begin(api, state=state)

    assert step.status == 302, step.text
    assert step.redirect["error"] == "invalid_request"
    assert "state" not in step.redirect
    assert "code" not in step.redirect
    assert requests_kept(admin_db) == before


def test_the_state_comes_back_exactly_and_a_form_cannot_change_it(
    api: ApiClient, account: str
) -> None:
    """Given a request with an odd but valid state, when the form is posted with a state of
    its own added, then that post is refused (no redirect); posted as the page made it, the
    redirect carries the code, the request's own state byte for byte, and iss."""
    state = " ~!*'();:@&=+$,/?#[]% "
    page = begin(api, state=state)
    (form,) = [f for f in forms(page.text) if f.action == AUTHORIZE]
    fields = {**form.fields, "email": account, "password": DEMO_PASSWORD}

    tampered = page.browser.post(AUTHORIZE, {**fields, "state": "attacker"})
    done = page.then(page.browser.post(AUTHORIZE, fields))

    assert tampered.status == 400
    assert "location" not in tampered.headers
    assert done.status == 303
    assert done.redirect["state"] == state
    assert done.redirect["iss"] == LOCAL_ISSUER
    assert done.code


def test_a_csrf_token_of_another_request_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given two sign-in pages open in one browser, when the first's form is posted with the
    second's CSRF token, then it is refused with an error page, no redirect, and no failure
    counted; with its own token it goes on."""
    first = begin(api)
    second_page = first.browser.get(authorization_query(new_verifier(), state="other"))
    (mine,) = [f for f in forms(first.text) if f.action == AUTHORIZE]
    (theirs,) = [f for f in forms(second_page.text) if f.action == AUTHORIZE]
    credentials = {"email": account, "password": DEMO_PASSWORD}

    crossed = first.browser.post(AUTHORIZE, {**mine.fields, "csrf": theirs.fields["csrf"]})
    forged = first.browser.post(AUTHORIZE, {**mine.fields, "csrf": "forged", **credentials})
    honest = first.then(first.browser.post(AUTHORIZE, {**mine.fields, **credentials}))

    for refused in (crossed, forged):
        assert refused.status == 400
        assert "location" not in refused.headers
        assert "cannot go on" in refused.text
    failures = admin_db.execute(
        "SELECT count(*) FROM sign_in_failures WHERE key = %s", (account,)
    ).fetchone()
    assert failures == (0,)
    assert honest.code


def test_a_form_posted_from_another_browser_is_refused(api: ApiClient, account: str) -> None:
    """Given a sign-in page's form (its request and CSRF token), when another browser (which
    never opened that page, so has another cookie or none) posts it, then it is refused:
    the request is bound to the browser that started it."""
    page = begin(api)
    (form,) = [f for f in forms(page.text) if f.action == AUTHORIZE]
    fields = {**form.fields, "email": account, "password": DEMO_PASSWORD}
    elsewhere = Browser(through_gateway(api))
    other_cookie = begin(api).browser

    without_cookie = elsewhere.post(AUTHORIZE, fields)
    with_another = other_cookie.post(AUTHORIZE, fields)

    for refused in (without_cookie, with_another):
        assert refused.status == 400
        assert "location" not in refused.headers


def test_a_finished_or_expired_request_cannot_be_posted_again(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a request whose sign-in finished, when its form is posted again, then it is
    refused (one code per request); given one past its lifetime, likewise."""
    page = begin(api)
    done = page.then(
        page.browser.submit(page.answer, {"email": account, "password": DEMO_PASSWORD})
    )
    assert done.code
    again = page.browser.submit(page.answer, {"email": account, "password": DEMO_PASSWORD})
    late = begin(api)
    (request_id,) = [f.fields["request"] for f in forms(late.text) if f.action == AUTHORIZE]
    admin_db.execute(
        "UPDATE authorization_requests SET expires_at = now() - interval '1 second' WHERE id = %s",
        (uuid.UUID(request_id),),
    )
    expired = late.browser.submit(late.answer, {"email": account, "password": DEMO_PASSWORD})

    for refused in (again, expired):
        assert refused.status == 400
        assert "location" not in refused.headers


def test_every_redirect_names_this_issuer(api: ApiClient, account: str) -> None:
    """Given a sign-in, then the redirect that carries its code names this issuer (iss), so
    a client talking to several issuers can tell whose answer it got (RFC 9207)."""
    step = authorize(api, account)

    assert step.redirect["iss"] == LOCAL_ISSUER
