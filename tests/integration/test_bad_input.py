"""Bad input is a clear 4xx problem, never a 500 and never a partial write."""

from __future__ import annotations

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER, menu_item_id

TIRAMISU = menu_item_id("Tiramisù")
PRICE_PATH = f"/venues/{CENTRALE}/menu/items/{TIRAMISU}"
CHEF = USER["head_chef"].id

JSON = {"content-type": "application/json"}
BAD_BODIES = {
    "malformed json": (b'{"price_cents": 12', JSON, 400, "malformed-json"),
    "not an object": (b"[1, 2]", JSON, 422, "invalid-body"),
    "string for a number": (b'{"price_cents": "12"}', JSON, 422, "invalid-body"),
    "float for cents": (b'{"price_cents": 12.5}', JSON, 422, "invalid-body"),
    "negative price": (b'{"price_cents": -1}', JSON, 422, "invalid-body"),
    "unknown field": (b'{"price_cents": 12, "venue_id": "x"}', JSON, 422, "invalid-body"),
    "missing field": (b"{}", JSON, 422, "invalid-body"),
    "empty body": (b"", JSON, 400, "missing-body"),
    "oversized": (
        b'{"price_cents": 12, "x": "' + b"a" * 70_000 + b'"}',
        JSON,
        413,
        "body-too-large",
    ),
    "not json at all": (
        b"price_cents=12",
        {"content-type": "application/x-www-form-urlencoded"},
        415,
        "unsupported-media-type",
    ),
    "invalid utf-8": (b'{"price_cents": 1\xff}', JSON, 400, "malformed-json"),
}


def snapshot(admin_db: psycopg.Connection) -> tuple[object, ...]:
    price = admin_db.execute(
        "SELECT price_cents, updated_at FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (CENTRALE, TIRAMISU),
    ).fetchone()
    events = admin_db.execute("SELECT count(*) FROM audit_outbox").fetchone()
    return (price, events)


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"), BAD_BODIES.values(), ids=BAD_BODIES.keys()
)
def test_a_bad_body_is_refused_and_nothing_is_written(
    api: ApiClient,
    admin_db: psycopg.Connection,
    body: bytes,
    headers: dict[str, str],
    status: int,
    code: str,
) -> None:
    before = snapshot(admin_db)

    response = api.patch(PRICE_PATH, as_user=CHEF, body=body, headers=headers)

    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert snapshot(admin_db) == before


def test_validation_errors_name_the_field_but_never_echo_the_value(api: ApiClient) -> None:
    response = api.patch(PRICE_PATH, as_user=CHEF, json_body={"price_cents": "s3cr3t-value"})

    assert response.json()["errors"][0]["field"] == "price_cents"
    assert "s3cr3t-value" not in response.text


@pytest.mark.parametrize(
    "path",
    [
        "/venues/not-a-uuid/orders",
        "/venues/1/orders",
        f"/venues/{CENTRALE}/menu/items/not-a-uuid",
        "/venues/%27%20OR%201%3D1--/orders",
    ],
)
def test_non_uuid_ids_are_a_clear_400(api: ApiClient, path: str) -> None:
    method = "PATCH" if "/menu/" in path else "GET"

    response = api.request(method, path, as_user=CHEF, json_body={"price_cents": 1})

    assert response.status == 400
    assert response.json()["code"] == "invalid-path-parameter"


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"limit": "0"}, "limit"),
        ({"limit": "many"}, "limit"),
        ({"status": "lost"}, "status"),
        ({"unknown": "1"}, "unknown"),
    ],
)
def test_a_bad_query_string_is_a_clear_400(
    api: ApiClient, query: dict[str, str], field: str
) -> None:
    response = api.get(f"/venues/{CENTRALE}/orders", as_user=CHEF, query=query)

    assert response.status == 400
    assert response.json()["code"] == "invalid-query"
    assert response.json()["errors"][0]["field"] == field


def test_a_body_on_a_route_that_takes_none_is_refused(api: ApiClient) -> None:
    response = api.get(f"/venues/{CENTRALE}/orders", as_user=CHEF, json_body={"a": 1})

    assert response.status == 400
    assert response.json()["code"] == "unexpected-body"
