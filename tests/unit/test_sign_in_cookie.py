"""The cookie that binds a browser to the sign-ins it starts."""

from __future__ import annotations

from auth.authorization import browser_cookie
from auth.config import Issuer
from auth.settings import IssuerSettings


def issuer_at(url: str) -> Issuer:
    return Issuer(IssuerSettings(token_issuer=url, token_audience="venue-api"))


def test_over_https_the_cookie_is_a_host_cookie() -> None:
    """Given an issuer served over HTTPS, then the cookie is ``__Host-`` prefixed: Secure,
    for this host only (no Domain), path /, never readable by script nor sent with another
    site's form."""
    cookie = browser_cookie(issuer_at("https://auth.venue.example"), "v" * 43)

    assert cookie == f"__Host-authz={'v' * 43}; Path=/; Secure; HttpOnly; SameSite=Lax"


def test_over_plain_http_locally_the_cookie_is_not_secure() -> None:
    """Given the local stack on plain HTTP, then the cookie drops Secure (a browser would
    not send it back) and keeps to the issuer's /oauth paths."""
    cookie = browser_cookie(issuer_at("http://127.0.0.1:8787"), "v" * 43)

    assert cookie == f"authz={'v' * 43}; Path=/oauth; HttpOnly; SameSite=Lax"
    assert "Domain" not in cookie
