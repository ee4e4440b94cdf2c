"""`make bench-capacity`: the database time one request costs, by route family, the input of
docs/capacity.md's model.

Each family's request is sent ``REPEAT`` times through the local gateway (the real gate,
one warm venue-role connection, as a Lambda container holds it) to a dedicated, seeded
database. The database's figure is the CPU time of the one Postgres backend serving that
connection (``/proc/<pid>/stat``: user + system), read before and after: what a request
costs the server (parsing, planning, executing, the protocol), whatever the client does
meanwhile. It needs the server on this machine (the embedded one); with DATABASE_URL
elsewhere it says so. The wall time per request is shown beside it. Figures go to stdout;
nothing fails on them.
"""

from __future__ import annotations

import datetime as dt
import io
import os
import platform
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import psycopg

from bench.stack import bench_database, quiet_request_logs
from infra.local.client import ApiClient, Response
from infra.local.gateway import LocalGateway
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, USER, menu_item_id, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import StaticKeySource, TokenVerifier

REPEAT = 500
RISOTTO = menu_item_id("Risotto ai funghi")


@dataclass(frozen=True)
class Family:
    name: str
    call: Callable[[ApiClient, int], Response]


def families(order_id: uuid.UUID) -> list[Family]:
    chef, owner = USER["head_chef"].id, USER["owner"].id
    return [
        Family(
            "venue read: orders queue",
            lambda api, n: api.get(f"/venues/{CENTRALE}/orders", as_user=chef),
        ),
        Family(
            "venue read: one order",
            lambda api, n: api.get(f"/venues/{CENTRALE}/orders/{order_id}", as_user=chef),
        ),
        Family(
            "venue read: menu", lambda api, n: api.get(f"/venues/{CENTRALE}/menu", as_user=chef)
        ),
        Family("user read: venue switcher", lambda api, n: api.get("/me/venues", as_user=owner)),
        Family(
            "venue write: price change (audited)",
            lambda api, n: api.patch(
                f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
                as_user=chef,
                json_body={"price_cents": 1500 + n % 500},
            ),
        ),
        Family(
            "refused: another venue's orders",
            lambda api, n: api.get(f"/venues/{uuid.uuid4()}/orders", as_user=chef),
        ),
    ]


def backend_cpu_ms(pid: int) -> float | None:
    """User + system CPU of process ``pid`` so far, in milliseconds (None: not readable)."""
    try:
        fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()  # noqa: SIM115
    except OSError:
        return None
    ticks = int(fields[11]) + int(fields[12])  # utime, stime
    return 1000 * ticks / os.sysconf("SC_CLK_TCK")


def main() -> None:
    quiet_request_logs(io.StringIO())
    with bench_database() as bench:
        db = bench.database
        key = SigningKey.generate()
        keys = StaticKeySource(key.jwks())
        source = PooledConnections(db.venue_url, max_size=1)
        runtime = Runtime(
            databases={DbRole.VENUE: source},
            verifier=TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=keys),
            binding_key=BindingKey.from_setting(db.binding_key),
        )
        gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
        api = ApiClient(
            gateway,
            key,
            LOCAL_ISSUER,
            LOCAL_AUDIENCE,
            start_session=lambda user: start_demo_session(db.admin_url, user),
        )
        with psycopg.connect(db.admin_url, autocommit=True) as admin:
            row = admin.execute(
                "SELECT id FROM orders WHERE venue_id = %s ORDER BY number DESC LIMIT 1",
                (CENTRALE,),
            ).fetchone()
            assert row is not None
            print(
                f"# database time per request, {dt.date.today().isoformat()},"
                f" Postgres {bench.server_version} ({bench.origin}), Python"
                f" {platform.python_version()}, {REPEAT} requests per family",
            )
            print(f"{'family':40} {'db CPU ms/req':>14} {'wall ms (median)':>17}")
            for family in families(row[0]):
                for n in range(20):  # warm: the connection, the token, the caches
                    family.call(api, n)
                pids = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE usename = 'app_venue' AND datname = %s",
                    (db.name,),
                ).fetchall()
                assert len(pids) == 1, pids
                pid = int(pids[0][0])
                before = backend_cpu_ms(pid)
                walls = []
                for n in range(REPEAT):
                    started = time.perf_counter()
                    response = family.call(api, n)
                    walls.append(time.perf_counter() - started)
                    assert response.status < 500, response.text
                after = backend_cpu_ms(pid)
                per_request = (
                    "n/a (server elsewhere)"
                    if before is None or after is None
                    else f"{(after - before) / REPEAT:.3f}"
                )
                print(f"{family.name:40} {per_request:>14} {1000 * statistics.median(walls):17.2f}")
                sys.stdout.flush()
        source.close()


if __name__ == "__main__":
    main()
