"""Database faults with a real server: a request's connection killed mid-transaction
(``pg_terminate_backend`` from an admin connection) and the server stopped outright. The
caller gets a 503 problem+json (``database-unavailable``), nothing the request had written
survives, and the next request once the database is back is served.

The server is one of these tests' own (tests/support/faults.py): the suite's is never
stopped. A function is tried in both shapes it runs in: Lambda's one connection per
container (``SingleConnection``) and the local gateway's pool."""

from __future__ import annotations

import gc
import json
from collections import Counter
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import psycopg
import pytest

from auth.config import Issuer
from infra.local.client import ApiClient, Response
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, USER, menu_item_id
from infra.migrate import VENUE_ROLE
from tenancy.db import SingleConnection
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tests.campaign.record import full_size, record
from tests.support.faults import DedicatedPostgres, dedicated_postgres, in_thread
from tests.support.oauth import token_request
from tests.support.stack import close_runtime, make_api, make_runtime, trusted_keys
from tests.support.tills import DEMO_TILLS

RISOTTO = menu_item_id("Risotto ai funghi")
#: How many times each fault is caused (``make campaign`` causes it more often).
ROUNDS = 5 if full_size() else 1
#: What the campaign saw, recorded once the module is done.
SEEN: list[str] = []


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DedicatedPostgres]:
    with dedicated_postgres(Path(tmp_path_factory.mktemp("faulty-postgres")) / "data") as pg:
        yield pg
    record(
        "faults-database",
        cases=len(SEEN),
        outcome="every fault answered 503 database-unavailable, wrote nothing, and the next"
        " request was served",
        details=[f"{line} ({times} times)" for line, times in Counter(SEEN).items()],
    )


def api_over(
    pg: DedicatedPostgres, shape: str, signing_key: SigningKey, issuer: Issuer
) -> tuple[ApiClient, Runtime]:
    """The gateway over ``pg``: its connections as Lambda holds them, or pooled."""
    keys = trusted_keys(signing_key, issuer)
    runtime = make_runtime(pg.database, keys, pool_size=2, issuer=issuer)
    if shape == "lambda":
        close_runtime(runtime)
        db = pg.database
        runtime.databases = {
            DbRole.VENUE: SingleConnection(lambda: db.venue_url),
            DbRole.ISSUER: SingleConnection(lambda: db.issuer_url),
        }
    return make_api(runtime, keys, signing_key, pg.database.admin_url), runtime


def close_connections(runtime: Runtime) -> None:
    """Closes the runtime's connections, whichever shape they have."""
    close_runtime(runtime)
    for source in runtime.databases.values():
        if isinstance(source, SingleConnection):
            with source.connection() as conn:
                conn.close()


def price_of_risotto(pg: DedicatedPostgres) -> int:
    with psycopg.connect(pg.database.admin_url) as admin:
        row = admin.execute(
            "SELECT price_cents FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
            (CENTRALE, RISOTTO),
        ).fetchone()
    assert row is not None
    return int(row[0])


def price_events(pg: DedicatedPostgres, price_cents: int) -> int:
    with psycopg.connect(pg.database.admin_url) as admin:
        row = admin.execute(
            "SELECT count(*) FROM audit_outbox WHERE action = 'menu.price_changed'"
            " AND target_id = %s AND details->>'price_cents' = %s",
            (str(RISOTTO), str(price_cents)),
        ).fetchone()
    assert row is not None
    return int(row[0])


def change_price(api: ApiClient, price_cents: int) -> Response:
    return api.patch(
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": price_cents},
    )


def till_token(api: ApiClient) -> Response:
    """Centrale's till asks for its device token (client credentials: the issuer's role)."""
    till = DEMO_TILLS[CENTRALE]
    return token_request(
        api,
        grant_type="client_credentials",
        client_id=till.client_id,
        client_secret=till.client_secret,
    )


def assert_database_unavailable(response: Response) -> None:
    assert response.status == 503, response.text
    assert response.headers["content-type"] == "application/problem+json"
    problem = response.json()
    assert problem["code"] == "database-unavailable", problem
    assert "retry-after" in response.headers


@pytest.mark.parametrize("shape", ["lambda", "pool"])
def test_a_request_whose_connection_is_killed_mid_transaction_gets_503_and_writes_nothing(
    faulty: DedicatedPostgres, shape: str, signing_key: SigningKey, issuer: Issuer
) -> None:
    """Given the head chef changing the risotto's price at centrale, caught after the price
    was written and while the change's audit event waits for a lock an admin holds on the
    venue's row, when an admin terminates that request's backend, then the head chef gets a
    503 problem+json (database-unavailable), the price is unchanged and no event of the
    change exists; and the very next request, once the lock is gone, is served and writes
    the price with its one event."""
    api, runtime = api_over(faulty, shape, signing_key, issuer)
    try:
        assert api.get(f"/venues/{CENTRALE}/menu", as_user=USER["head_chef"].id).status == 200
        for _ in range(ROUNDS):
            before = price_of_risotto(faulty)
            attempted = before + 1
            with psycopg.connect(faulty.database.admin_url) as admin:
                admin.execute("SELECT 1 FROM venues WHERE id = %s FOR UPDATE", (CENTRALE,))
                in_flight = in_thread(partial(change_price, api, attempted))
                faulty.terminate_waiting(VENUE_ROLE)
                refused = in_flight.result()
                admin.rollback()

            assert_database_unavailable(refused)
            assert price_of_risotto(faulty) == before
            assert price_events(faulty, attempted) == 0

            served = change_price(api, attempted + 1)
            assert served.status == 200, served.text
            assert price_of_risotto(faulty) == attempted + 1
            assert price_events(faulty, attempted + 1) == 1
            SEEN.append(f"{shape}: backend terminated mid-transaction → 503, nothing written")
    finally:
        close_connections(runtime)


def test_while_the_server_is_stopped_every_request_gets_503_and_the_first_after_it_is_served(
    faulty: DedicatedPostgres,
    signing_key: SigningKey,
    issuer: Issuer,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Given Lambda-shaped functions whose connections are open, when the database server
    is stopped, then a read, a write (which writes nothing) and a till's token request are
    each refused at once with 503 (the token endpoint in OAuth's shape:
    temporarily_unavailable); and when the server is started again, the first request of
    each is served, the lost connections having been closed (psycopg logs nothing)."""
    api, runtime = api_over(faulty, "lambda", signing_key, issuer)
    try:
        menu = f"/venues/{CENTRALE}/menu"
        assert api.get(menu, as_user=USER["head_chef"].id).status == 200
        for _ in range(ROUNDS):
            before = price_of_risotto(faulty)
            faulty.stop()
            try:
                outage = {
                    "read (open connection)": api.get(menu, as_user=USER["head_chef"].id),
                    "read (reconnecting)": api.get(menu, as_user=USER["head_chef"].id),
                    "write": change_price(api, before + 7),
                }
                token = till_token(api)
            finally:
                faulty.start()

            for response in outage.values():
                assert_database_unavailable(response)
            assert token.status == 503, token.text
            assert json.loads(token.body)["error"] == "temporarily_unavailable"

            assert api.get(menu, as_user=USER["head_chef"].id).status == 200
            assert price_of_risotto(faulty) == before
            assert price_events(faulty, before + 7) == 0
            assert change_price(api, before + 8).status == 200
            again = till_token(api)
            assert again.status == 200, again.text
            # A lost connection is closed when it is replaced, not left to the garbage
            # collector (psycopg would log "error ignored terminating ..." for each).
            gc.collect()
            assert [r.getMessage() for r in caplog.records if r.name.startswith("psycopg")] == []
            SEEN.extend(f"server stopped: {what} → 503" for what in outage)
            SEEN.append("server stopped: till token → 503 temporarily_unavailable")
            SEEN.append("server restarted: the first requests served")
    finally:
        close_connections(runtime)
