"""Past one machine, by simulation: 200 function instances at once, each with its own
connection as Lambda holds it (``SingleConnection``), all through PgBouncer in transaction
mode sharing 10 server connections (standing in for RDS Proxy's multiplexing). Whichever
instance runs a transaction next gets whichever server connection is free.

Then: no answer is a 5xx or holds a row of another venue; a probe transaction that binds
nothing, run on those same server connections throughout, never sees a binding of anyone
else's transaction (the settings read empty and row-level security shows it no row); and
nothing is left on a server connection that would pin it to one client under RDS Proxy
(prepared statements, session-level settings, advisory locks, LISTEN, temporary tables, a
transaction a request left open)."""

from __future__ import annotations

import copy
import dataclasses
import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tenancy.db import CONNECTION_OPTIONS, SingleConnection
from tenancy.spec import DbRole
from tests.campaign.record import full_size, record
from tests.support.load import Call, Outcome, traffic
from tests.support.pgbouncer import Pooler, binary, pgbouncer
from tests.support.stack import close_runtime, make_runtime, trusted_keys

INSTANCES = 200
SERVER_CONNECTIONS = 10
#: Requests each instance serves in turn.
ROUNDS = 10 if full_size() else 2
#: Transactions that bind nothing, asking what they inherited, on their own clients.
PROBES = 10

#: Read first, before anything is bound: what a transaction finds on its server connection.
INHERITED = """
SELECT pg_backend_pid(),
       current_setting('app.venue_id', true), current_setting('app.user_id', true),
       current_setting('app.session_id', true), current_setting('app.mfa', true),
       current_setting('app.binding', true),
       (SELECT count(*) FROM public.orders) + (SELECT count(*) FROM public.staff_members),
       (SELECT count(*) FROM pg_catalog.pg_prepared_statements),
       (SELECT count(*) FROM pg_catalog.pg_settings
         WHERE source = 'session' AND name LIKE 'app.%%'),
       (SELECT count(*) FROM pg_catalog.pg_listening_channels()),
       (SELECT count(*) FROM pg_catalog.pg_locks
         WHERE locktype = 'advisory' AND pid = pg_backend_pid()),
       pg_catalog.pg_my_temp_schema() <> 0
"""
CLEAN = (None, "")


@pytest.fixture(scope="module")
def pooler(database: postgres.Database) -> Iterator[Pooler]:
    if binary() is None:
        pytest.skip(
            "pgbouncer is not installed and could not be (`make pgbouncer` installs Debian's"
            " package as root): the pooler simulation did not run"
        )
    with pgbouncer(database.admin_url, server_connections=SERVER_CONNECTIONS) as running:
        yield running


def test_two_hundred_instances_through_ten_pooled_connections_leak_no_binding_and_never_pin(
    pooler: Pooler,
    api: ApiClient,
    database: postgres.Database,
    signing_key: SigningKey,
    issuer: Issuer,
) -> None:
    """Given 200 simulated function instances, each with its own connection through
    PgBouncer (transaction mode, 10 server connections), and probes on the same pooler,
    when every instance serves its share of people's and tills' requests at once while the
    probes keep asking what their server connection carries, then no answer is a 5xx or
    holds another venue's row, every probe found no binding, no visible row and nothing
    that pins, and the server was never given more than 10 connections."""
    keys = trusted_keys(signing_key, issuer)
    base = make_runtime(database, keys, pool_size=1, issuer=issuer)
    close_runtime(base)
    gateway = LocalGateway(base, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
    through_pooler = pooler.url(database.venue_url)
    mix = traffic(api, database.admin_url, INSTANCES * ROUNDS, seed=11)
    start = threading.Barrier(INSTANCES)
    done = threading.Event()
    waiting_clients: list[int] = []
    left_open: list[str] = []

    def instance(index: int) -> list[Outcome]:
        """One function instance: its own runtime and connection, its requests in turn."""
        connection = SingleConnection(lambda: through_pooler)
        own = copy.copy(gateway)
        own.runtime = dataclasses.replace(base, databases={DbRole.VENUE: connection})
        outcomes = []
        start.wait()
        for r in range(ROUNDS):
            call: Call = mix.calls[r * INSTANCES + index]
            status, _, body = own.handle(
                call.method, call.path, {"authorization": f"Bearer {call.token}"}, b""
            )
            outcomes.append(Outcome(call, status, json.loads(body) if body else None, 0.0))
            with connection.connection() as conn:
                # A transaction left open would hold its server connection for this client.
                if conn.info.transaction_status.name != "IDLE":
                    left_open.append(f"{call.method} {call.path} → {status}")
        with connection.connection() as conn:
            conn.close()
        return outcomes

    def probe() -> list[tuple[Any, ...]]:
        seen: list[tuple[Any, ...]] = []
        with psycopg.connect(through_pooler, **CONNECTION_OPTIONS) as conn:
            while not done.is_set() or not seen:
                row = conn.execute(INHERITED).fetchone()
                assert row is not None
                seen.append(tuple(row))
        return seen

    server_counts: list[int] = []

    def watch() -> None:
        while not done.wait(0.05):
            pools = [p for p in pooler.show("POOLS") if p["user"] == "app_venue"]
            waiting_clients.append(sum(int(p["cl_waiting"]) for p in pools))
            server_counts.append(
                sum(int(p[k]) for p in pools for k in p if str(k).startswith("sv_"))
            )

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with ThreadPoolExecutor(max_workers=PROBES) as probes:
        probing = [probes.submit(probe) for _ in range(PROBES)]
        try:
            with ThreadPoolExecutor(max_workers=INSTANCES) as pool:
                outcomes = [o for batch in pool.map(instance, range(INSTANCES)) for o in batch]
        finally:
            done.set()
        probed = [row for future in probing for row in future.result()]
    watcher.join(5)
    closes = Counter(pooler.server_closes())

    statuses = Counter(o.status for o in outcomes)
    server_errors = [o for o in outcomes if o.status >= 500]
    foreign = [row for o in outcomes for row in mix.foreign_rows(o)]
    leaks = [row for row in probed if any(value not in CLEAN for value in row[1:6])]
    visible = [row for row in probed if row[6] != 0]
    pinning = [row for row in probed if row[7:11] != (0, 0, 0, 0) or row[11]]
    backends = {row[0] for row in probed}
    print(
        f"\npooler: {len(outcomes)} requests from {INSTANCES} instances over"
        f" {SERVER_CONNECTIONS} server connections; statuses {dict(statuses)};"
        f" {len(probed)} probe transactions on {len(backends)} backends;"
        f" most clients waiting at once {max(waiting_clients, default=0)};"
        f" most server connections at once {max(server_counts, default=0)};"
        f" server connections closed: {dict(closes)}"
    )
    record(
        "pooler-simulation",
        cases=len(outcomes) + len(probed),
        outcome=f"{len(server_errors)} answers 5xx, {len(foreign)} rows of another venue,"
        f" {len(leaks)} bindings inherited, {len(visible)} rows seen unbound,"
        f" {len(pinning)} pinning leftovers, {len(left_open)} transactions left open",
        details=[
            f"{INSTANCES} simulated function instances (one connection each) through"
            f" PgBouncer in transaction mode, {SERVER_CONNECTIONS} server connections",
            f"statuses: {dict(sorted(statuses.items()))}",
            f"{len(probed)} probe transactions on {len(backends)} server backends read the"
            " binding settings, venue rows, prepared statements, session settings, LISTEN,"
            " advisory locks and temporary schema first",
            f"most instances waiting for a server connection at once:"
            f" {max(waiting_clients, default=0)}; most server connections at once:"
            f" {max(server_counts, default=0)}",
            f"server connections PgBouncer closed, by reason: {dict(closes) or 'none'}",
        ],
    )

    assert server_errors == []
    assert foreign == []
    assert statuses[200] > 0, statuses
    assert statuses[403] > 0, statuses
    assert leaks == [], leaks[:3]
    assert visible == [], visible[:3]
    assert pinning == [], pinning[:3]
    assert left_open == [], left_open[:3]
    # A server connection is closed when its client leaves it mid-exchange (a pooler cannot
    # know its state): a function closing its connection must not.
    assert closes == Counter(), closes
    assert max(server_counts) <= SERVER_CONNECTIONS
