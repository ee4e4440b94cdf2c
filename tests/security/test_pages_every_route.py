"""Every page a browser opens carries the security headers, and every page route answers
bad input (missing, repeated, oversized, NUL, non-ASCII, not UTF-8) with a page, never a 500
and never a redirect elsewhere. Generated from the route declarations: a new page route is
covered without editing this file."""

from __future__ import annotations

import re

import psycopg
import pyotp
import pytest

from auth.config import Issuer
from infra.local.client import ApiClient
from infra.local.keys import LOCAL_ISSUER
from infra.local.mailbox import LocalMailbox
from infra.local.seed import DEMO_PASSWORD, USER
from infra.local.signin import Answer, Browser
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.pages import PAGE_HEADERS
from tests.conftest import ROOT
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import REDIRECT_URI, answer_mfa, authorize, begin, through_gateway
from tests.support.second_factor import Enrolled, enrol_second_factor

PAGES = [d for d in discover(ROOT / "functions") if d.spec.errors == "page"]
FORM = "application/x-www-form-urlencoded"

BAD_QUERIES = {
    "nothing": "",
    "every parameter empty": "client_id=&redirect_uri=&state=&token=&code_challenge=",
    "repeated": "client_id=admin-spa&client_id=admin-spa&token=a&token=b",
    "oversized": "client_id=" + "x" * 6000 + "&state=" + "y" * 6000 + "&token=" + "z" * 6000,
    "NUL": "client_id=admin%00spa&state=%00&token=%00",
    "non-ASCII": "client_id=%C3%A9%E2%82%AC&state=%F0%9F%8D%9D&token=%C3%A9",
    "not UTF-8": "client_id=%FF%FE&state=%C3&token=%FF",
    "odd encoding": "client_id=%zz&&=&state=%",
}
BAD_FORMS = {
    "empty": b"",
    "nothing it expects": b"surprise=1",
    "repeated": b"request=a&request=b&csrf=c&csrf=d&email=e&token=t",
    "oversized": b"request=" + b"r" * 20_000 + b"&csrf=c&email=e&password=p&token=t",
    "NUL": b"request=%00&csrf=%00&email=a%00b&password=%00&token=%00",
    "non-ASCII": b"request=%C3%A9&csrf=%E2%82%AC&email=%F0%9F%8D%9D&password=%C3%A9&token=%C3%A9",
    "not UTF-8": b"request=\xff&csrf=\xfe",
    "fields of a request that does not exist": (
        b"request=8c4b1a0e-9d0f-4c41-9d0e-1a2b3c4d5e6f&csrf=c&email=e&password=p&code=123456"
        b"&recovery_code=r&token=t&password_again=p"
    ),
}


@pytest.fixture
def enrolled_account(admin_db: psycopg.Connection, issuer: Issuer) -> Enrolled:
    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    return enrol_second_factor(admin_db, issuer, email)


def assert_page_headers(answer: Answer) -> None:
    """The headers every page and redirect of the issuer carries."""
    for name in ("cache-control", "referrer-policy", "x-content-type-options", "x-frame-options"):
        assert answer.headers[name] == PAGE_HEADERS[name], name
    policy = answer.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in policy
    assert "default-src 'none'" in policy
    assert "script-src" not in policy
    assert "unsafe-inline" not in policy
    if answer.status not in (302, 303):
        assert answer.headers["content-type"] == "text/html; charset=utf-8"
        assert answer.text.startswith("<!doctype html>")
        assert "<script" not in answer.text
        assert not re.search(r"""(src|href)=["']?(https?:)?//""", answer.text)


def send(api: ApiClient, route: DeclaredRoute, query: str, body: bytes) -> Answer:
    browser = Browser(through_gateway(api, "203.0.113.77"))
    target = route.spec.path + (f"?{query}" if query else "")
    return browser.send(route.spec.method, target, body, FORM if body else None)


def assert_safe_refusal(answer: Answer) -> None:
    assert answer.status < 500, answer.text
    assert_page_headers(answer)
    location = answer.headers.get("location")
    assert location is None or location.startswith(REDIRECT_URI + "?"), location


@pytest.mark.parametrize("route", PAGES, ids=lambda d: d.spec.route_key)
@pytest.mark.parametrize("query", BAD_QUERIES.values(), ids=BAD_QUERIES.keys())
def test_a_bad_query_is_a_page_not_a_failure(
    api: ApiClient, route: DeclaredRoute, query: str
) -> None:
    """Given any page route and a query string it cannot use, then the answer is a page
    with the security headers (a 4xx), never a 500, never a redirect elsewhere."""
    body = b"" if route.spec.method == "GET" else b"request=x&csrf=y"

    assert_safe_refusal(send(api, route, query, body))


@pytest.mark.parametrize(
    "route", [r for r in PAGES if r.spec.method == "POST"], ids=lambda d: d.spec.route_key
)
@pytest.mark.parametrize("body", BAD_FORMS.values(), ids=BAD_FORMS.keys())
def test_a_bad_form_is_a_page_not_a_failure(
    api: ApiClient, route: DeclaredRoute, body: bytes
) -> None:
    """Given any page form and a body it cannot use, then the answer is a 4xx page with the
    security headers, never a 500 and never a redirect."""
    answer = send(api, route, "", body)

    assert_safe_refusal(answer)
    assert 400 <= answer.status < 500
    assert "location" not in answer.headers


def test_every_page_of_a_sign_in_carries_the_security_headers(
    api: ApiClient,
    admin_db: psycopg.Connection,
    enrolled_account: Enrolled,
    mailbox: LocalMailbox,
) -> None:
    """Given the pages a person meets (sign-in, its refusal, the second factor, the setup of
    one with its recovery codes, the redirects, the reset pages and an error page), then
    each carries the security headers: no-store, no referrer, no framing, no sniffing, a
    content security policy without script, and nothing from another site."""
    seen: list[Answer] = []
    page = begin(api)
    seen.append(page.answer)
    refused = page.browser.submit(page.answer, {"email": "x@y.example", "password": "no"})
    challenge = authorize(api, enrolled_account.email)
    done = answer_mfa(challenge, code=enrolled_account.totp.now())
    seen += [refused, challenge.answer, done.answer]

    admin = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE email = %s", (admin,))
    setup = authorize(api, admin, DEMO_PASSWORD)
    key = re.search(r'<code class="secret">([A-Z2-7]+)</code>', setup.text)
    assert key is not None
    codes = setup.browser.submit(setup.answer, {"code": pyotp.TOTP(key.group(1)).now()})
    finished = setup.browser.submit(codes, {})
    seen += [setup.answer, codes, finished]

    asked = page.browser.submit(page.answer, {"email": admin}, action="/oauth/password-reset")
    link = mailbox.last_link(admin)
    assert link is not None
    reset_page = page.browser.get(link.removeprefix(LOCAL_ISSUER))
    changed = page.browser.submit(
        reset_page, {"password": "Changed-it-2026!", "password_again": "Changed-it-2026!"}
    )
    error = begin(api, client_id="nobody").answer
    seen += [asked, reset_page, changed, error]

    assert {a.status for a in seen} == {200, 303, 400}
    for answer in seen:
        assert_page_headers(answer)


def test_the_sign_in_page_labels_every_field_and_needs_no_script(api: ApiClient) -> None:
    """Given the sign-in page, then every input a person types into has a label, the page
    says its language, and it works as a plain form (method post, no script)."""
    text = begin(api).text

    ids = set(re.findall(r'<input id="([^"]+)"', text))
    labelled = set(re.findall(r'<label for="([^"]+)"', text))
    assert ids == {"email", "password", "reset-email"}
    assert ids <= labelled
    assert '<html lang="en">' in text
    assert text.count('<form method="post"') == 2
