"""Parallel requests for different venues over one small pool never leak rows."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest

from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, NORD, USER
from tenancy.tokens import StaticKeySource
from tests.conftest import close_runtime, make_api, make_runtime

REQUESTS = 50
POOL_SIZE = 4  # far fewer connections than requests: every connection serves both venues


@pytest.fixture
def small_pool_api(database: postgres.Database, signing_key: SigningKey) -> Iterator[ApiClient]:
    keys = StaticKeySource(signing_key.jwks())
    runtime = make_runtime(database, keys, pool_size=POOL_SIZE)
    yield make_api(runtime, keys, signing_key, database.admin_url)
    close_runtime(runtime)


def test_fifty_parallel_requests_alternating_venues_leak_nothing(
    small_pool_api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the head chef of centrale and the manager of nord, when 50 requests alternate
    between them in parallel over 4 pooled connections, then every response holds only the
    asking user's venue's orders."""
    venue_of_order: dict[uuid.UUID, uuid.UUID] = dict(
        admin_db.execute("SELECT id, venue_id FROM orders").fetchall()
    )
    callers = [(USER["head_chef"].id, CENTRALE), (USER["manager"].id, NORD)]
    for user_id, _ in callers:  # mint tokens before the race
        small_pool_api.token_for(user_id)

    def ask(i: int) -> tuple[uuid.UUID, int, list[uuid.UUID]]:
        user_id, venue = callers[i % 2]
        response = small_pool_api.get(f"/venues/{venue}/orders", as_user=user_id)
        ids = (
            [uuid.UUID(o["id"]) for o in response.json()["orders"]]
            if response.status == 200
            else []
        )
        return venue, response.status, ids

    with ThreadPoolExecutor(max_workers=16) as pool:
        results = list(pool.map(ask, range(REQUESTS)))

    assert [status for _, status, _ in results] == [200] * REQUESTS
    leaked = [order for venue, _, ids in results for order in ids if venue_of_order[order] != venue]
    assert leaked == []
    assert all(ids for _, _, ids in results)
