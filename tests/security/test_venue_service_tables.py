"""The venue service's own tables under bad input and cross-venue requests: the generated
tests (bad input on every route, the cross-tenant matrix) watch the older tables; these
watch the service's, on every route that writes, also generated from the declarations."""

from __future__ import annotations

import hashlib
import uuid

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import NORD, USER
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tests.conftest import ROOT
from tests.security.test_bad_input_every_route import BAD_KINDS, bad_body, send

SERVICE_TABLES = [
    "menu_items",
    "menu_item_availability",
    "menu_item_prices",
    "shifts",
    "stock_counts",
    "venue_settings",
    "audit_outbox",
]
WRITES = [
    d
    for d in discover(ROOT / "functions")
    if d.spec.access is Access.VENUE and d.spec.method != "GET"
]


def snapshot(admin_db: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for table in SERVICE_TABLES:
        rows = admin_db.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1").fetchall()
        digest.update(repr(rows).encode())
    return digest.hexdigest()


@pytest.mark.parametrize("declared", WRITES, ids=lambda d: d.spec.route_key)
@pytest.mark.parametrize("kind", BAD_KINDS)
def test_bad_input_to_a_venue_write_changes_none_of_the_service_tables(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, kind: str
) -> None:
    """Given a caller with every flag a write needs at centrale, when they send a bad body
    (or a body to a route that takes none), then the answer is a 4xx problem and none of
    the service's tables changed."""
    body, content_type = bad_body(declared, kind)
    before = snapshot(admin_db)

    response = send(api, declared, body, content_type)

    assert 400 <= response.status < 500, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"]
    assert snapshot(admin_db) == before


@pytest.mark.parametrize("declared", WRITES, ids=lambda d: d.spec.route_key)
def test_a_write_aimed_at_another_venue_changes_none_of_the_service_tables(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute
) -> None:
    """Given centrale's head chef, when they call a write route at nord (with a plausible
    body), then the venue refusal answers and none of the service's tables changed."""
    path = declared.spec.path.replace("{venue_id}", str(NORD))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    plausible = {
        "price_cents": 1,
        "available": False,
        "quantity": 1,
        "name": "x",
        "tip_policy": "none",
    }
    before = snapshot(admin_db)

    response = api.request(
        declared.spec.method, path, as_user=USER["head_chef"].id, json_body=plausible
    )

    assert response.status == 403, response.text
    assert response.json()["code"] == "venue-access-denied"
    assert snapshot(admin_db) == before
