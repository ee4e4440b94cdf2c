"""Answers for browsers: an HTML page or a redirect, with the headers every page carries.

An API route answers JSON; a route a person's browser opens (the issuer's sign-in pages)
answers ``HtmlPage`` or ``Redirect`` instead, and declares ``errors="page"`` with an
``error_page`` that renders its refusals. The markup is the route's own business (a
template engine in its area); the gate only sends it, with the security headers below.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

__all__ = ["PAGE_HEADERS", "HtmlPage", "Redirect", "request_cookies"]

#: What every page and redirect carries unless the page overrides it: nothing is cached,
#: nothing is leaked through Referer, nothing frames it, nothing is sniffed, and the
#: default policy allows no script, no style, no image, no frame and forms only to itself.
PAGE_HEADERS: Mapping[str, str] = {
    "cache-control": "no-store",
    "pragma": "no-cache",
    "referrer-policy": "no-referrer",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "content-security-policy": (
        "default-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
    ),
}


@dataclass(frozen=True)
class HtmlPage:
    """An HTML document, sent with ``status``, the page headers (``headers`` adds to or
    replaces them) and ``cookies`` (``Set-Cookie`` values). ``refusal``: the problem code
    of the refusal the page shows a person (a wrong password shown on the sign-in page),
    counted by the gate as a refused request's is (tenancy.metrics); never sent."""

    html: str
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: tuple[str, ...] = ()
    refusal: str | None = None


@dataclass(frozen=True)
class Redirect:
    """A redirect to ``location`` (303 after a form's POST, 302 after a GET)."""

    location: str
    status: int = 303
    headers: Mapping[str, str] = field(default_factory=dict)
    cookies: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.status not in (302, 303):
            raise ValueError("a redirect is a 302 or a 303")


def page_response(result: HtmlPage | Redirect) -> dict[str, Any]:
    """The API Gateway (payload 2.0) response for ``result``."""
    headers = {**PAGE_HEADERS, **{k.lower(): v for k, v in result.headers.items()}}
    response: dict[str, Any]
    if isinstance(result, Redirect):
        headers["location"] = result.location
        response = {"statusCode": result.status, "headers": headers, "body": ""}
    else:
        headers["content-type"] = "text/html; charset=utf-8"
        response = {"statusCode": result.status, "headers": headers, "body": result.html}
    if result.cookies:
        response["cookies"] = list(result.cookies)
    return response


def request_cookies(event: Mapping[str, Any]) -> dict[str, str]:
    """The request's cookies by name. API Gateway (payload 2.0) hands them over as
    ``cookies``, a list of ``name=value``; a ``Cookie`` header is read when that is absent.
    A name sent twice keeps its first value (the most specific path comes first)."""
    raw = event.get("cookies")
    if not isinstance(raw, list):
        headers = {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}
        raw = headers.get("cookie", "").split(";")
    found: dict[str, str] = {}
    for item in raw:
        name, sep, value = str(item).strip().partition("=")
        if sep and name and name not in found:
            found[name] = value.strip()
    return found
