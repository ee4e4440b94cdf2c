"""`make bench-service` (``python -m bench.service``): the venue service's reads at volume.

1. The sales summary over 100,000 orders at one venue, then with 19 more venues of 50,000
   orders each (1,050,000 orders across 20 venues): the gated route against its bare SQL on
   the same connection, side by side; and the plan's use of the sales indexes.
2. The menu read's database round trips, counted on the wire for an allowed caller (200)
   and for a refused one (403): a read is one round trip whatever its answer.

It reports and never fails on a miss (docs/benchmarks.md, "Venue service"); it is not part
of `make test`. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import uuid
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from bench.stack import OneConnection, api_event, bench_database, quiet_request_logs
from bench.timing import Samples, interleaved
from bench.wire import CountingProxy, Turn
from infra.local import postgres
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, USER, start_demo_session
from tenancy.bindings import BindingKey, Bindings
from tenancy.catalogue import discover
from tenancy.db import GateConnection, connect
from tenancy.gate import Route
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import StaticKeySource, TokenVerifier

ROOT = Path(__file__).resolve().parents[1]
SALES_ROUTE = "GET /venues/{venue_id}/sales"
MENU_ROUTE = "GET /venues/{venue_id}/menu"
#: The caller: the regional manager, with VIEW_SALES at centrale.
CALLER = USER["regional"]
#: A caller refused at centrale (bar lume's owner): the menu read is counted for them too.
STRANGER = USER["owner_lume"]

RATIO_TARGET = 1.3
TRIPS_TARGET = 1
#: The orders' days: the summary covers all of them.
FIRST_DAY = dt.date(2026, 8, 1)
DAYS = 90

_BIND_SESSION = Bindings.SQL.replace("true)", "false)")
_UNBIND = "RESET app.venue_id; RESET app.user_id; RESET app.session_id; RESET app.binding"

# Orders spread evenly over DAYS days from FIRST_DAY, each with two lines of the venue's
# group's items and one of the venue's staff; one in 20 cancelled. Written as the admin.
_BULK_ORDERS = """
WITH params AS (
    SELECT %(venue)s::uuid AS venue, %(count)s::int AS n, %(first)s::timestamptz AS start,
           coalesce((SELECT max(number) FROM orders WHERE venue_id = %(venue)s), 0) AS base
), staff AS (
    SELECT array_agg(m.id ORDER BY m.id) AS ids FROM staff_members m, params
    WHERE m.venue_id = params.venue
), items AS (
    SELECT array_agg(i.id ORDER BY i.name) AS ids, array_agg(i.name ORDER BY i.name) AS names
    FROM menu_items i JOIN venues v ON v.group_id = i.group_id, params
    WHERE v.id = params.venue
), made AS (
    INSERT INTO orders (id, venue_id, number, status, staff_member_id, total_cents, created_at)
    SELECT gen_random_uuid(), params.venue, params.base + g,
           CASE WHEN g %% 20 = 0 THEN 'cancelled' ELSE 'paid' END,
           staff.ids[1 + g %% cardinality(staff.ids)],
           2400,
           params.start + (g::float8 / params.n) * make_interval(days => %(days)s)
    FROM params, staff, generate_series(1, params.n) AS g
    RETURNING id, venue_id, number
)
INSERT INTO order_items (order_id, venue_id, item_id, name, quantity, unit_price_cents)
SELECT made.id, made.venue_id, items.ids[1 + (made.number + k) %% cardinality(items.ids)],
       items.names[1 + (made.number + k) %% cardinality(items.ids)], 1, 1200
FROM made, items, generate_series(0, 1) AS k
"""


@dataclass(frozen=True)
class Ratio:
    label: str
    gated: Samples
    bare: Samples
    orders_in_range: int

    @property
    def ratio(self) -> float:
        return self.gated.median / self.bare.median


@dataclass(frozen=True)
class Trips:
    label: str
    status: int
    turns: list[Turn]
    stable: bool


def _progress(message: str) -> None:
    print(f"[bench-service] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:9.2f} ms"


class ServiceBench:
    """The gate as in a warm Lambda container (one runtime-role connection, the real route
    declarations), and the bare statements on the same connection."""

    def __init__(self, database: postgres.Database) -> None:
        self.database = database
        self.binding_key = BindingKey.from_setting(database.binding_key)
        key = SigningKey.generate()
        self.verifier = TokenVerifier(
            issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(key.jwks())
        )
        self.session_id, amr = start_demo_session(database.admin_url, CALLER.id)
        self.token = key.access_token(
            CALLER.id, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, sid=str(self.session_id),
            amr=amr,
        )  # fmt: skip
        stranger_session, stranger_amr = start_demo_session(database.admin_url, STRANGER.id)
        self.stranger_token = key.access_token(
            STRANGER.id, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE,
            sid=str(stranger_session), amr=stranger_amr,
        )  # fmt: skip
        routes = {d.spec.route_key: d.route for d in discover(ROOT / "functions")}
        self.sales_route: Route = routes[SALES_ROUTE]
        self.menu_route: Route = routes[MENU_ROUTE]

    # --- data ---------------------------------------------------------------------------

    def add_venues(self, count: int) -> list[uuid.UUID]:
        """``count`` venues of the io osteria group, each with a waiter on its staff."""
        made = []
        with psycopg.connect(self.database.admin_url) as admin:
            for index in range(count):
                venue = uuid.uuid4()
                admin.execute(
                    "INSERT INTO venues (id, group_id, name, slug)"
                    " SELECT %s, group_id, %s, %s FROM venues WHERE id = %s",
                    (venue, f"bench venue {index}", f"bench-{venue.hex[:12]}", CENTRALE),
                )
                admin.execute(
                    "INSERT INTO staff_members (venue_id, display_name, role)"
                    " VALUES (%s, 'Bench waiter', 'waiter')",
                    (venue,),
                )
                made.append(venue)
        return made

    def add_orders(self, venue: uuid.UUID, count: int) -> None:
        with psycopg.connect(self.database.admin_url) as admin:
            admin.execute(
                _BULK_ORDERS,
                {"venue": venue, "count": count, "first": FIRST_DAY.isoformat(), "days": DAYS},
            )
        # As autovacuum would: statistics, and the visibility map for index-only scans.
        with psycopg.connect(self.database.admin_url, autocommit=True) as admin:
            admin.execute("VACUUM (ANALYZE) orders")
            admin.execute("VACUUM (ANALYZE) order_items")

    def orders_at(self, venue: uuid.UUID) -> int:
        with psycopg.connect(self.database.admin_url) as admin:
            row = admin.execute(
                "SELECT count(*) FROM orders WHERE venue_id = %s", (venue,)
            ).fetchone()
        return int(row[0]) if row else 0

    # --- the gate and the bare statement --------------------------------------------------

    def _runtime(self, conn: GateConnection) -> Runtime:
        return Runtime(
            databases={DbRole.VENUE: OneConnection(conn)},
            verifier=self.verifier,
            binding_key=self.binding_key,
        )

    def _bind_session(self, conn: psycopg.Connection) -> None:
        bindings = self.binding_key.bind(
            user_id=CALLER.id,
            session_id=self.session_id,
            venue_id=CENTRALE,
            mfa=False,
            now=time.time() + 3600,
        )
        conn.execute(_BIND_SESSION, bindings.as_params())

    def sales_event(self, first: dt.date, last: dt.date) -> dict[str, Any]:
        event = api_event(
            "GET", "/venues/{venue_id}/sales", {"venue_id": str(CENTRALE)}, self.token
        )
        event["queryStringParameters"] = {"from": first.isoformat(), "to": last.isoformat()}
        event["rawQueryString"] = f"from={first.isoformat()}&to={last.isoformat()}"
        return event

    def sales_ratio(
        self, label: str, first: dt.date, last: dt.date, *, warmup: int, iterations: int
    ) -> Ratio:
        """The gated summary against SUMMARY alone, A B A B on one connection."""
        from sales.queries import SUMMARY

        conn = connect(self.database.venue_url)
        try:
            runtime = self._runtime(conn)
            event = self.sales_event(first, last)
            served = self.sales_route.invoke(event, runtime)
            if served["statusCode"] != 200:
                raise RuntimeError(f"the sales route answered {served}")
            orders = json.loads(served["body"])["total"]["orders"]
            self._bind_session(conn)
            params = {"venue": CENTRALE, "from": first, "to": last}

            def bare() -> object:
                return conn.execute(SUMMARY, params).fetchall()

            if json.loads(conn.execute(SUMMARY, params).fetchall()[0][0]) != json.loads(
                served["body"]
            ):
                raise RuntimeError("the bare SQL and the route disagree")
            gated_samples, bare_samples = interleaved(
                [("gated", lambda: self.sales_route.invoke(event, runtime)), ("bare", bare)],
                warmup=warmup,
                iterations=iterations,
            )
            conn.execute(_UNBIND)
        finally:
            conn.close()
        return Ratio(label, gated_samples, bare_samples, orders)

    def sales_plan(self, first: dt.date, last: dt.date) -> list[str]:
        """The summary's plan as the runtime role with centrale bound: which indexes it uses."""
        from sales.queries import SUMMARY

        with psycopg.connect(self.database.venue_url) as conn:
            self._bind_session(conn)
            rows = conn.execute(
                "EXPLAIN (ANALYZE, COSTS OFF, TIMING OFF, SUMMARY OFF) " + SUMMARY,
                {"venue": CENTRALE, "from": first, "to": last},
            ).fetchall()
        return [str(row[0]) for row in rows]

    # --- round trips --------------------------------------------------------------------

    def menu_trips(self, captures: int = 3) -> list[Trips]:
        proxy = CountingProxy(self.database.venue_url)
        conn = connect(proxy.conninfo())
        try:
            runtime = self._runtime(conn)
            menu_path = {"venue_id": str(CENTRALE)}

            def count(label: str, token: str) -> Trips:
                event = api_event("GET", "/venues/{venue_id}/menu", menu_path, token)
                self.menu_route.invoke(event, runtime)
                self.menu_route.invoke(event, runtime)
                seen: list[list[Turn]] = []
                status = 0
                for _ in range(captures):
                    proxy.reset()
                    status = self.menu_route.invoke(event, runtime)["statusCode"]
                    seen.append(proxy.turns())
                return Trips(label, status, seen[-1], len({len(t) for t in seen}) == 1)

            return [
                count("GET /venues/{id}/menu, attached caller", self.token),
                count("GET /venues/{id}/menu, caller of another group", self.stranger_token),
            ]
        finally:
            conn.close()
            proxy.close()


def _report_ratio(result: Ratio) -> None:
    verdict = "PASS" if result.ratio <= RATIO_TARGET else "MISS"
    print(f"   {result.label}")
    print(f"      orders in the range (not cancelled): {result.orders_in_range:,}")
    print(
        f"      gated   median {_ms(result.gated.median)}   p90 {_ms(result.gated.p90)}\n"
        f"      bare    median {_ms(result.bare.median)}   p90 {_ms(result.bare.p90)}\n"
        f"      ratio gated / bare: {result.ratio:.3f}  (target <= {RATIO_TARGET})  {verdict}"
    )


def _report_trips(trips: list[Trips]) -> None:
    for trip in trips:
        verdict = "PASS" if len(trip.turns) <= TRIPS_TARGET and trip.stable else "MISS"
        print(
            f"   {trip.label}: answered {trip.status}, {len(trip.turns)} round trip(s)"
            f"{'' if trip.stable else ' (varied between captures)'}  {verdict}"
        )
        for number, turn in enumerate(trip.turns, 1):
            print(f"      {number}. {turn.messages()}  ->  {turn.answer()}")
            print(f"         {turn.carries()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.service")
    parser.add_argument("--orders", type=int, default=100_000, help="orders at centrale")
    parser.add_argument("--venues", type=int, default=19, help="other venues for part 1b")
    parser.add_argument(
        "--orders-per-venue", type=int, default=50_000, help="orders at each other venue"
    )
    parser.add_argument("--iterations", type=int, default=40)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    last = FIRST_DAY + dt.timedelta(days=DAYS)
    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        _progress("starting Postgres, migrating and seeding a fresh database")
        with bench_database() as db:
            bench = ServiceBench(db.database)
            print(
                f"Venue service bench, {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC,"
                f" Postgres {db.server_version} ({db.origin}), {os.cpu_count()} CPUs"
            )
            print()
            _progress("counting the menu read's round trips")
            trips = bench.menu_trips()
            _progress(f"writing {args.orders:,} orders at centrale")
            bench.add_orders(CENTRALE, args.orders)
            _progress("timing the sales summary at one venue")
            one = bench.sales_ratio(
                f"1a. {bench.orders_at(CENTRALE):,} orders at centrale, the only busy venue;"
                f" {FIRST_DAY} to {last}",
                FIRST_DAY,
                last,
                warmup=5,
                iterations=args.iterations,
            )
            week = bench.sales_ratio(
                f"1a'. the same, one week ({FIRST_DAY + dt.timedelta(days=30)} to"
                f" {FIRST_DAY + dt.timedelta(days=36)})",
                FIRST_DAY + dt.timedelta(days=30),
                FIRST_DAY + dt.timedelta(days=36),
                warmup=5,
                iterations=args.iterations * 5,
            )
            others = bench.add_venues(args.venues)
            for index, venue in enumerate(others, 1):
                _progress(
                    f"writing {args.orders_per_venue:,} orders at venue {index}/{len(others)}"
                )
                bench.add_orders(venue, args.orders_per_venue)
            with psycopg.connect(db.database.admin_url) as admin:
                row = admin.execute(
                    "SELECT count(*), count(DISTINCT venue_id) FROM orders"
                ).fetchone()
            total, venues = (int(row[0]), int(row[1])) if row else (0, 0)
            _progress("timing the sales summary among the other venues' orders")
            many = bench.sales_ratio(
                f"1b. the same at centrale, {total:,} orders across {venues} venues",
                FIRST_DAY,
                last,
                warmup=5,
                iterations=args.iterations,
            )
            plan = bench.sales_plan(FIRST_DAY, last)
        print("1. Sales summary: the gated route against its bare SQL (SUMMARY alone, same")
        print("   connection, runtime role, venue bound for the session), interleaved")
        for result in (one, week, many):
            _report_ratio(result)
        print("   the summary's plan (1b), index lines:")
        for line in plan:
            if "Index" in line or "Scan" in line:
                print(f"      {line.strip()}")
        print()
        print("2. The menu read's database round trips (status-independent)")
        _report_trips(trips)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
