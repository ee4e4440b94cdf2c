"""The group library's and the diners' routes talk to Postgres as the pattern allows: a read
is one round trip, a write at most two (docs/architecture.md, "Round trips"). Counted at the
socket by the benchmarks' proxy; a count, never a time."""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from bench.wire import CountingProxy
from customers.config import DinerKeys
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.seed import (
    CENTRALE,
    NORD,
    USER,
    demo_diner_keys,
    diner_id,
    menu_item_id,
    recipe_id,
    supplier_id,
)
from tenancy.catalogue import discover
from tenancy.db import GateConnection, connect
from tenancy.permissions import Role
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tests.conftest import ROOT
from tests.support.demo_users import attach, new_user

ROUTES = {d.spec.route_key: d.route for d in discover(ROOT / "functions")}
MARIA = diner_id("maria", "centrale")


class _One:
    def __init__(self, conn: GateConnection) -> None:
        self.conn = conn

    @contextlib.contextmanager
    def connection(self) -> Iterator[GateConnection]:
        yield self.conn


def event(route_key: str, path: dict[str, str], token: str, body: Any = None) -> dict[str, Any]:
    method, template = route_key.split(" ", 1)
    raw_path = template.format(**path)
    return {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": {"authorization": f"Bearer {token}", "content-type": "application/json"},
        "queryStringParameters": None,
        "pathParameters": path,
        "requestContext": {
            "http": {"method": method, "path": raw_path, "sourceIp": "127.0.0.1"},
            "requestId": str(uuid.uuid4()),
        },
        "body": None if body is None else json.dumps(body),
        "isBase64Encoded": False,
    }


@pytest.fixture
def counted(
    database: postgres.Database, runtime: Runtime
) -> Iterator[tuple[CountingProxy, Runtime]]:
    proxy = CountingProxy(database.venue_url)
    conn = connect(proxy.conninfo())
    try:
        yield (
            proxy,
            Runtime(
                databases={DbRole.VENUE: _One(conn)},
                verifier=runtime.verifier,
                binding_key=runtime.binding_key,
                collaborators={DinerKeys: demo_diner_keys()},
            ),
        )
    finally:
        conn.close()
        proxy.close()


def test_reads_are_one_round_trip_and_writes_at_most_two(
    counted: tuple[CountingProxy, Runtime], api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a warm connection behind a counting proxy, when each library and diner route is
    served once, then every read took one round trip and every write at most two."""
    proxy, runtime = counted
    owner = new_user(admin_db, "Owner for the round trips")
    attach(admin_db, owner, CENTRALE, Role.OWNER)
    regional = api.token_for(USER["regional"].id)
    manager = api.token_for(USER["manager"].id)
    as_owner = api.token_for(owner)
    centrale = {"venue_id": str(CENTRALE)}
    recipe = {**centrale, "recipe_id": str(recipe_id("Tiramisù"))}
    supplier = {**centrale, "supplier_id": str(supplier_id("Caseificio Valle"))}
    maria = {**centrale, "customer_id": str(MARIA)}
    content = {
        "ingredients": [{"name": "riso", "quantity": 80, "unit": "g"}],
        "method": "Tostare, sfumare, mantecare.",
        "allergens": ["milk"],
    }
    calls: list[tuple[str, dict[str, str], str, Any, int]] = [
        ("GET /venues/{venue_id}/recipes", centrale, regional, None, 1),
        ("GET /venues/{venue_id}/recipes/{recipe_id}", recipe, regional, None, 1),
        ("GET /venues/{venue_id}/suppliers", centrale, regional, None, 1),
        ("GET /venues/{venue_id}/suppliers/{supplier_id}", supplier, regional, None, 1),
        ("GET /venues/{venue_id}/customers/{customer_id}", maria, regional, None, 1),
        ("GET /venues/{venue_id}/customers/{customer_id}/history", maria, regional, None, 1),
        (
            "POST /venues/{venue_id}/recipes",
            centrale,
            as_owner,
            {**content, "item_id": str(menu_item_id("Risotto ai funghi"))},
            2,
        ),
        ("POST /venues/{venue_id}/suppliers", centrale, as_owner, {"name": "Riseria"}, 2),
        (
            "POST /venues/{venue_id}/customers",
            {"venue_id": str(NORD)},
            manager,
            {"email": f"{uuid.uuid4().hex[:8]}@example.com"},
            2,
        ),
        (
            "PUT /venues/{venue_id}/customers/{customer_id}/dietary",
            maria,
            regional,
            {"allergens": ["peanuts", "tree_nuts"], "dietary_notes": "carries an adrenaline pen"},
            2,
        ),
        (
            "POST /venues/{venue_id}/customers/{customer_id}/visits",
            maria,
            regional,
            {"party_size": 2},
            2,
        ),
        (
            "PUT /venues/{venue_id}/customers/{customer_id}/consent",
            maria,
            regional,
            {"share_group_history": True},
            2,
        ),
    ]
    # Warm: the connection's first use carries its own set-up.
    ROUTES[calls[0][0]].invoke(event(calls[0][0], centrale, regional), runtime)
    counts: dict[str, int] = {}
    try:
        for route_key, path, token, body, _ in calls:
            proxy.reset()
            response = ROUTES[route_key].invoke(event(route_key, path, token, body), runtime)
            assert response["statusCode"] < 300, (route_key, response)
            counts[route_key] = len(proxy.turns())
    finally:
        admin_db.execute(
            "DELETE FROM recipes WHERE item_id = %s", (menu_item_id("Risotto ai funghi"),)
        )
        admin_db.execute("DELETE FROM suppliers WHERE name = 'Riseria'")

    assert counts == {route_key: most for route_key, _, _, _, most in calls}
