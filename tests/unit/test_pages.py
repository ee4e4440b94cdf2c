"""Pages for browsers: a route answers an HTML page or a redirect with the page headers, reads
its query string as sent, and shows its refusals (and its failures) as its own error page."""

from __future__ import annotations

from typing import Any, cast

import pytest

from tenancy import (
    FormBody,
    HtmlPage,
    NoBody,
    Problem,
    RawQuery,
    Redirect,
    Request,
    public_route,
)
from tenancy.pages import PAGE_HEADERS, request_cookies
from tenancy.runtime import Runtime


class Anything(RawQuery):
    documented = ("name",)


class Greeting(FormBody):
    name: str


def error_page(problem: Problem) -> HtmlPage:
    return HtmlPage(f"<p>{problem.code}</p>", status=problem.status)


@public_route(
    "GET", "/example", summary="ok", database=None, query=Anything, errors="page",
    error_page=error_page,
)  # fmt: skip
def show(request: Request[Anything, NoBody]) -> HtmlPage | Redirect:
    names = request.query.values("name")
    if names == ["fail"]:
        raise RuntimeError("a bug")
    if names == ["refuse"]:
        raise Problem(429, "slow-down", "wait", headers={"retry-after": "7"})
    if names == ["away"]:
        return Redirect("https://client.example/cb?x=1", status=302)
    return HtmlPage("<p>" + ",".join(names) + request.cookies.get("c", "") + "</p>")


@public_route(
    "POST", "/example", summary="ok", database=None, body=Greeting, errors="page",
    error_page=error_page,
)  # fmt: skip
def post(request: Request[Any, Greeting]) -> HtmlPage:
    return HtmlPage("thanks", cookies=("c=1; Path=/; HttpOnly",))


def event(query: str = "", **more: Any) -> dict[str, Any]:
    return {
        "rawQueryString": query,
        "requestContext": {"http": {"method": "GET", "sourceIp": "203.0.113.5"}},
        **more,
    }


@pytest.fixture
def runtime() -> Runtime:
    """Enough of a runtime for routes that open no connection and verify no token."""
    return Runtime(databases={}, verifier=cast(Any, None), binding_key=cast(Any, None))


def test_a_page_is_sent_with_the_page_headers(runtime: Runtime) -> None:
    """Given a page route, when it answers a page, then the response is HTML with every
    page header: no-store, no referrer, no framing, a strict content security policy."""
    response = show.invoke(event("name=a&name=b", cookies=["c=z"]), runtime)

    assert response["statusCode"] == 200
    assert response["headers"]["content-type"] == "text/html; charset=utf-8"
    for name, value in PAGE_HEADERS.items():
        assert response["headers"][name] == value
    assert response["body"] == "<p>a,bz</p>"


def test_a_redirect_carries_its_location_and_the_page_headers(runtime: Runtime) -> None:
    """Given a page route answering a redirect, then it is sent with its status, its
    Location and the page headers (no referrer, no caching)."""
    response = show.invoke(event("name=away"), runtime)

    assert response["statusCode"] == 302
    assert response["headers"]["location"] == "https://client.example/cb?x=1"
    assert response["headers"]["referrer-policy"] == "no-referrer"
    assert response["headers"]["cache-control"] == "no-store"


def test_a_raw_query_keeps_repeats_order_and_nul(runtime: Runtime) -> None:
    """Given a query string with a repeated name and a NUL, then the route sees every pair
    as sent: judging them is its own business."""
    response = show.invoke(event("name=x%00y&other=1&name=2"), runtime)

    assert response["body"] == "<p>x\x00y,2</p>"


def test_refusals_and_failures_are_the_routes_error_page(runtime: Runtime) -> None:
    """Given a page route, when it refuses (with a header) or fails, or its form cannot be
    read, then the answer is its error page with the refusal's status and headers; a
    failure is a 500 page, never a stack trace."""
    refused = show.invoke(event("name=refuse"), runtime)
    failed = show.invoke(event("name=fail"), runtime)
    unreadable = post.invoke(
        {**event(), "body": "name=a&name=b", "headers": {"content-type": "text/plain"}}, runtime
    )

    assert (refused["statusCode"], refused["body"]) == (429, "<p>slow-down</p>")
    assert refused["headers"]["retry-after"] == "7"
    assert refused["headers"]["x-frame-options"] == "DENY"
    assert (failed["statusCode"], failed["body"]) == (500, "<p>internal-error</p>")
    assert unreadable["statusCode"] == 415
    assert unreadable["headers"]["content-type"] == "text/html; charset=utf-8"


def test_cookies_are_set_as_a_list_and_read_from_either_place(runtime: Runtime) -> None:
    """Given a page that sets a cookie, then it is in the response's cookie list (API
    Gateway's payload 2.0); a request's cookies are read from that list or a header."""
    response = post.invoke(
        {
            **event(),
            "body": "name=a",
            "headers": {"content-type": "application/x-www-form-urlencoded"},
        },
        runtime,
    )

    assert response["cookies"] == ["c=1; Path=/; HttpOnly"]
    assert request_cookies({"cookies": ["a=1", "b=2=3", "a=9"]}) == {"a": "1", "b": "2=3"}
    assert request_cookies({"headers": {"Cookie": "a=1; b=2"}}) == {"a": "1", "b": "2"}


def test_a_page_route_must_name_its_error_page() -> None:
    """Given a page route declared without an error page, or an error page without being a
    page route, or a redirect that is neither a 302 nor a 303, then it is refused."""
    with pytest.raises(ValueError, match="names its error_page"):
        public_route("GET", "/x", summary="x", database=None, errors="page")
    with pytest.raises(ValueError, match="names its error_page"):
        public_route("GET", "/x", summary="x", database=None, error_page=error_page)
    with pytest.raises(ValueError, match="a 302 or a 303"):
        Redirect("/", status=301)
