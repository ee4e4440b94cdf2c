"""Bad input on every declared route is a clear 4xx, never a 500 and never a write.

Generated from the route declarations, like the cross-tenant matrix.
"""

from __future__ import annotations

import hashlib
import uuid

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, USER
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access, FormBody, NoBody
from tests.conftest import ROOT
from tests.support.tills import DEMO_TILLS, device_token, till_session

ROUTES = discover(ROOT / "functions")
WITH_BODY = [d for d in ROUTES if d.spec.body is not NoBody]
WATCHED_TABLES = [
    "users",
    "menu_item_prices",
    "orders",
    "order_items",
    "order_counters",
    "invoice_counters",
    "invoices",
    "audit_outbox",
    "sign_in_failures",
    "authorization_codes",
    "authorization_requests",
    "password_resets",
    "refresh_tokens",
    "user_totp",
    "recipes",
    "suppliers",
    "diners",
    "diner_visits",
    "diner_consents",
    "oauth_clients",
    "till_device_venues",
    "staff_pins",
    "till_sessions",
    "stripe_events",
    "checkouts",
    "refunds",
    "payment_accounts",
]


def snapshot(admin_db: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for table in WATCHED_TABLES:
        rows = admin_db.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1").fetchall()
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def send(
    api: ApiClient,
    declared: DeclaredRoute,
    body: bytes,
    content_type: str,
    token: str | None = None,
    **query: str,
) -> Response:
    """The request at centrale as the regional manager (every flag), or, on a route a till
    calls with its device token, as centrale's till; or with ``token``."""
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    if token is None and declared.spec.access is Access.DEVICE:
        token = device_token(api, DEMO_TILLS[CENTRALE])
    user = None if declared.spec.access is Access.PUBLIC or token else USER["regional"].id
    return api.request(
        declared.spec.method,
        path,
        as_user=user,
        token=token,
        body=body,
        headers={"content-type": content_type},
        query=query or None,
    )


def assert_clear_refusal(declared: DeclaredRoute, response: Response) -> None:
    assert 400 <= response.status < 500, response.text
    if declared.spec.errors == "oauth":
        assert set(response.json()) == {"error", "error_description"}
    elif declared.spec.errors == "page":
        # A page a browser opens: an error page, never a redirect anywhere.
        assert response.headers["content-type"] == "text/html; charset=utf-8"
        assert "location" not in response.headers
        assert response.text.startswith("<!doctype html>")
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"]


def bad_body(declared: DeclaredRoute, kind: str) -> tuple[bytes, str]:
    """A body of the given kind, in the media type the route expects."""
    form = issubclass(declared.spec.body, FormBody)
    media = "application/x-www-form-urlencoded" if form else "application/json"
    bodies = {
        "malformed": b"a=%zz&&=" if form else b'{"a": ',
        "unknown field only": b"surprise=1" if form else b'{"surprise": 1}',
        "wrong types": b"grant_type=&token="
        if form
        else b'{"email": 1, "password": [], "code": {}, "price_cents": "x", "token": 5}',
        "oversized": b"x" * 70_000,
        "not utf-8": b"\xff\xfe\xfa",
    }
    if kind == "wrong media type":
        return b"<xml/>", "application/xml"
    return bodies[kind], media


BAD_KINDS = [
    "malformed",
    "unknown field only",
    "wrong types",
    "oversized",
    "not utf-8",
    "wrong media type",
]


@pytest.mark.parametrize("declared", WITH_BODY, ids=lambda d: d.spec.route_key)
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_a_bad_body_is_a_clear_refusal_and_writes_nothing(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, kind: str
) -> None:
    body, content_type = bad_body(declared, kind)
    before = snapshot(admin_db)

    response = send(api, declared, body, content_type)

    assert_clear_refusal(declared, response)
    assert snapshot(admin_db) == before


@pytest.mark.parametrize("declared", ROUTES, ids=lambda d: d.spec.route_key)
def test_an_unknown_query_parameter_is_a_clear_refusal(
    api: ApiClient, declared: DeclaredRoute
) -> None:
    response = send(api, declared, b"", "application/json", surprise="1")

    assert_clear_refusal(declared, response)


@pytest.mark.parametrize(
    "declared", [d for d in ROUTES if d.spec.till], ids=lambda d: d.spec.route_key
)
@pytest.mark.parametrize("kind", ["unknown query parameter", "unexpected body"])
def test_bad_input_from_a_till_session_is_a_clear_refusal_and_writes_nothing(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, kind: str
) -> None:
    """Given a till session of centrale, when it sends an unknown query parameter, or a body
    the route does not take, to a route open to tills, then it is a clear 4xx and nothing is
    written (its session is not locked either)."""
    token = till_session(api, DEMO_TILLS[CENTRALE], "regional")["access_token"]
    before = snapshot(admin_db)

    if kind == "unknown query parameter":
        response = send(api, declared, b"", "application/json", token=token, surprise="1")
    else:
        response = send(api, declared, b'{"surprise": 1}', "application/json", token=token)

    assert_clear_refusal(declared, response)
    assert snapshot(admin_db) == before
