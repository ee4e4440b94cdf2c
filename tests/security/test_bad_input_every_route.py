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

ROUTES = discover(ROOT / "functions")
WITH_BODY = [d for d in ROUTES if d.spec.body is not NoBody]
WATCHED_TABLES = [
    "users",
    "menu_item_prices",
    "audit_outbox",
    "sign_in_failures",
    "authorization_codes",
    "refresh_tokens",
    "user_totp",
]


def snapshot(admin_db: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for table in WATCHED_TABLES:
        rows = admin_db.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1").fetchall()  # noqa: S608
        digest.update(repr(rows).encode())
    return digest.hexdigest()


def send(
    api: ApiClient, declared: DeclaredRoute, body: bytes, content_type: str, **query: str
) -> Response:
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    user = None if declared.spec.access is Access.PUBLIC else USER["regional"].id
    return api.request(
        declared.spec.method,
        path,
        as_user=user,
        body=body,
        headers={"content-type": content_type},
        query=query or None,
    )


def assert_clear_refusal(declared: DeclaredRoute, response: Response) -> None:
    assert 400 <= response.status < 500, response.text
    if declared.spec.errors == "oauth":
        assert set(response.json()) == {"error", "error_description"}
    else:
        assert response.headers["content-type"] == "application/problem+json"
        assert response.json()["code"]


def json_type(declared: DeclaredRoute) -> str:
    if issubclass(declared.spec.body, FormBody):
        return "application/x-www-form-urlencoded"
    return "application/json"


BAD_BODIES = {
    "malformed": lambda d: (
        b'{"a": ' if json_type(d) == "application/json" else b"a=%zz&&=",
        json_type(d),
    ),
    "unknown field only": lambda d: (
        b'{"surprise": 1}' if json_type(d) == "application/json" else b"surprise=1",
        json_type(d),
    ),
    "wrong types": lambda d: (
        b'{"email": 1, "password": [], "code": {}, "price_cents": "x", "token": 5}'
        if json_type(d) == "application/json"
        else b"grant_type=&token=",
        json_type(d),
    ),
    "oversized": lambda d: (b"x" * 70_000, json_type(d)),
    "wrong media type": lambda d: (b"<xml/>", "application/xml"),
    "not utf-8": lambda d: (b"\xff\xfe\xfa", json_type(d)),
}


@pytest.mark.parametrize("declared", WITH_BODY, ids=lambda d: d.spec.route_key)
@pytest.mark.parametrize("kind", BAD_BODIES)
def test_a_bad_body_is_a_clear_refusal_and_writes_nothing(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, kind: str
) -> None:
    body, content_type = BAD_BODIES[kind](declared)
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
