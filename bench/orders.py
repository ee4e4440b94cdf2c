"""`python -m bench.orders`: what taking and moving an order costs, and the queue at volume.

1. Round trips, counted on the wire: taking an order of 5 lines at a till session, a status
   transition, closing an order (its invoice issued), a queue page.
2. Taking an order (5 lines) and a transition through the real route, warm, in-process,
   against their bare SQL: the same statements, one transaction, pipelined the same way, on
   the same connection as the superuser (no token, no gate, no bindings, no models).
3. The queue's page (50 orders, and 50 placed orders, and a page deep in the cursor) as
   centrale grows from about 50 orders to 100,000 (``--max-orders`` lowers the top).

It reports and never fails: figures belong in docs/benchmarks.md ("Orders"), not in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "tenancy", _ROOT / "functions", _ROOT):
    if str(_path) not in sys.path:  # `python -m bench.orders` without `make`'s PYTHONPATH
        sys.path.insert(0, str(_path))

import argparse  # noqa: E402
import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable, Iterator  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

from bench.stack import bench_database, quiet_request_logs  # noqa: E402
from bench.tills import TillStack  # noqa: E402
from bench.tills import _stack as till_stack  # noqa: E402
from bench.timing import Samples, interleaved  # noqa: E402
from bench.wire import CountingProxy, Turn  # noqa: E402
from infra.local import postgres  # noqa: E402
from infra.local.seed import CENTRALE, menu_item_id  # noqa: E402
from orders import queries  # noqa: E402
from tenancy.order_book import lock_counter  # noqa: E402

CREATE_ROUTE = "POST /venues/{venue_id}/orders"
MOVE_ROUTE = "POST /venues/{venue_id}/orders/{order_id}/transitions"
QUEUE_ROUTE = "GET /venues/{venue_id}/orders"
WARMUP = 50
ROUNDS = 500
QUEUE_WARMUP = 50
QUEUE_ROUNDS = 300
STAGES = (1_000, 10_000, 100_000)
#: Five lines of centrale's menu (an item may be on two lines).
FIVE_LINES = [
    menu_item_id(name)
    for name in (
        "Tagliatelle al ragù",
        "Risotto ai funghi",
        "Tiramisù",
        "Tagliatelle al ragù",
        "Tiramisù",
    )
]


def _progress(message: str) -> None:
    print(f"[bench.orders] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def order_body() -> dict[str, Any]:
    return {
        "lines": [
            {"item_id": str(item), "quantity": 1 + i % 2} for i, item in enumerate(FIVE_LINES)
        ],
        "table_label": "B1",
    }


def take(stack: TillStack, token: str) -> str:
    response = stack.invoke(CREATE_ROUTE, stack.event(CREATE_ROUTE, token, order_body()), 201)
    order_id: str = json.loads(response["body"])["id"]
    return order_id


def move_event(stack: TillStack, token: str, order_id: str, action: str) -> dict[str, Any]:
    return stack.event(MOVE_ROUTE, token, {"action": action}, order_id=order_id)


# --- 1. round trips -------------------------------------------------------------------------


def round_trips(database: postgres.Database, issuer: Any) -> list[tuple[str, list[Turn]]]:
    proxy = CountingProxy(database.venue_url)
    stack = till_stack(database, issuer, proxy.conninfo(), database.issuer_url)
    try:
        token = stack.open_session()
        counted: list[tuple[str, list[Turn]]] = []

        def count(label: str, call: Callable[[], object]) -> None:
            proxy.reset()
            call()
            counted.append((label, proxy.turns()))

        take(stack, token)  # warm
        count("POST orders (5 lines, at a till)", lambda: take(stack, token))
        order = take(stack, token)
        count(
            "POST transitions (start)",
            lambda: stack.invoke(MOVE_ROUTE, move_event(stack, token, order, "start"), 200),
        )
        for action in ("mark_ready", "serve"):
            stack.invoke(MOVE_ROUTE, move_event(stack, token, order, action), 200)
        count(
            "POST transitions (close: its invoice)",
            lambda: stack.invoke(MOVE_ROUTE, move_event(stack, token, order, "close"), 200),
        )
        queue = stack.event(QUEUE_ROUTE, token)
        count("GET orders (a queue page)", lambda: stack.invoke(QUEUE_ROUTE, queue, 200))
        return counted
    finally:
        stack.venue.close()
        stack.issuing.close()
        proxy.close()


# --- 2. against the bare SQL ----------------------------------------------------------------


def report_round_trips(counted: list[tuple[str, list[Turn]]]) -> None:
    print("1. Database round trips, counted at a loopback TCP proxy (a burst the server answers)")
    for label, turns in counted:
        noun = "round trip" if len(turns) == 1 else "round trips"
        print(f"   {label:<40} {len(turns)} {noun}")
        for number, turn in enumerate(turns, 1):
            print(f"      {number}. {turn.carries()}")
            print(f"         sent [{turn.messages()}]  <- {turn.answer()}")
    print()


def bare_create(conn: psycopg.Connection, staff: uuid.UUID, shift: uuid.UUID) -> None:
    """The creation's statements without the gate: the counter's lock and the reads in one
    trip, the writes and COMMIT in the second."""
    with conn.pipeline() as pipeline:
        conn.execute("BEGIN")
        counter = lock_counter(conn, CENTRALE)
        context = queries.order_context(
            conn, CENTRALE, key=None, staff_member_id=staff, user_id=None, item_ids=FIVE_LINES
        )
        pipeline.sync()
        locked, found = counter.fetchone(), context.fetchone()
        assert locked is not None
        assert found is not None
        priced = found["priced"]
        quantities = [1 + i % 2 for i in range(len(FIVE_LINES))]
        prices = [priced[str(item)]["price_cents"] for item in FIVE_LINES]
        queries.write_order(
            conn,
            id=uuid.uuid4(),
            venue=CENTRALE,
            number=int(locked[0]) + 1,
            table="B1",
            staff=staff,
            total=sum(p * q for p, q in zip(prices, quantities, strict=True)),
            shift=shift,
            key=None,
            item_ids=FIVE_LINES,
            names=[priced[str(item)]["name"] for item in FIVE_LINES],
            quantities=quantities,
            prices=prices,
        )
        conn.execute("COMMIT")


def bare_move(conn: psycopg.Connection, order_id: str) -> None:
    with conn.pipeline() as pipeline:
        conn.execute("BEGIN")
        cursor = queries.order_for_transition(conn, CENTRALE, uuid.UUID(order_id))
        pipeline.sync()
        row = cursor.fetchone()
        assert row is not None
        queries.move_order(
            conn, venue=CENTRALE, order=row["id"], to="preparing", reason=None, **{"from": "placed"}
        )
        conn.execute("COMMIT")


def write_cost(stack: TillStack, admin: psycopg.Connection) -> tuple[list[Samples], list[Samples]]:
    token = stack.open_session()
    row = admin.execute(
        "SELECT s.id, o.staff_member_id FROM shifts s JOIN orders o ON o.shift_id = s.id"
        " WHERE s.venue_id = %s AND s.closed_at IS NULL AND o.staff_member_id IS NOT NULL"
        " LIMIT 1",
        (CENTRALE,),
    ).fetchone()
    assert row is not None
    shift, staff = row
    create_event = stack.event(CREATE_ROUTE, token, order_body())
    creates = interleaved(
        [
            ("route", lambda: stack.invoke(CREATE_ROUTE, create_event, 201)),
            ("bare", lambda: bare_create(admin, staff, shift)),
        ],
        warmup=WARMUP,
        iterations=ROUNDS,
    )
    # One placed order per call of each side, taken beforehand.
    placed: Iterator[str] = iter([take(stack, token) for _ in range(2 * (WARMUP + ROUNDS))])
    moves = interleaved(
        [
            (
                "route",
                lambda: stack.invoke(
                    MOVE_ROUTE, move_event(stack, token, next(placed), "start"), 200
                ),
            ),
            ("bare", lambda: bare_move(admin, next(placed))),
        ],
        warmup=WARMUP,
        iterations=ROUNDS,
    )
    return creates, moves


def report_write_cost(creates: list[Samples], moves: list[Samples]) -> None:
    print("2. Warm, in-process, against the same statements bare (superuser, no gate)")
    print(f"   {ROUNDS} interleaved pairs after {WARMUP} warm-up pairs")
    print(f"   {'':44} {'median':>11} {'p90':>11}")
    for title, (route, bare) in (
        ("take an order, 5 lines", creates),
        ("start (a transition)", moves),
    ):
        print(f"   {title + ': the route':<44} {_ms(route.median)} {_ms(route.p90)}")
        print(f"   {title + ': bare SQL':<44} {_ms(bare.median)} {_ms(bare.p90)}")
        print(f"   {'  ratio route / bare':<44} {route.median / bare.median:8.2f}")
    print()


# --- 3. the queue at volume -----------------------------------------------------------------

GROW = """
WITH made AS (
    INSERT INTO orders (id, venue_id, number, status, table_label, total_cents, created_at)
    SELECT gen_random_uuid(), %(venue)s, m.top + g,
           (ARRAY['placed', 'preparing', 'ready', 'served', 'closed', 'cancelled'])[1 + g %% 6],
           'T' || (g %% 40), 2300, now() - interval '1 day' + g * interval '1 second'
    FROM (SELECT coalesce(max(number), 0) AS top FROM orders WHERE venue_id = %(venue)s) m,
         generate_series(1, %(count)s) g
    RETURNING id
)
INSERT INTO order_items (order_id, venue_id, item_id, name, quantity, unit_price_cents)
SELECT made.id, %(venue)s, %(item)s, 'Tiramisù', 1, 700 FROM made
"""


def queue_at(stack: TillStack, token: str) -> dict[str, Samples]:
    oldest = stack.event(QUEUE_ROUTE, token)
    oldest["queryStringParameters"] = {"before": "40", "limit": "50"}
    oldest["rawQueryString"] = "before=40&limit=50"
    placed = stack.event(QUEUE_ROUTE, token)
    placed["queryStringParameters"] = {"status": "placed"}
    placed["rawQueryString"] = "status=placed"
    first = stack.event(QUEUE_ROUTE, token)
    samples = interleaved(
        [
            ("first page", lambda: stack.invoke(QUEUE_ROUTE, first, 200)),
            ("placed only", lambda: stack.invoke(QUEUE_ROUTE, placed, 200)),
            ("deep page (before=40)", lambda: stack.invoke(QUEUE_ROUTE, oldest, 200)),
        ],
        warmup=QUEUE_WARMUP,
        iterations=QUEUE_ROUNDS,
    )
    return {s.label: s for s in samples}


def queue_growth(
    stack: TillStack, admin: psycopg.Connection, top: int
) -> list[tuple[int, dict[str, Samples]]]:
    token = stack.open_session()
    grown: list[tuple[int, dict[str, Samples]]] = []
    for target in (0, *[s for s in STAGES if s <= top]):
        row = admin.execute(
            "SELECT count(*) FROM orders WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()
        have = int(row[0]) if row else 0
        if target > have:
            _progress(f"growing centrale to {target} orders")
            admin.execute(
                GROW, {"venue": CENTRALE, "count": target - have, "item": menu_item_id("Tiramisù")}
            )
            admin.execute("ANALYZE orders")
            admin.execute("ANALYZE order_items")
            admin.commit()
            have = target
        grown.append((have, queue_at(stack, token)))
    return grown


def report_queue(grown: list[tuple[int, dict[str, Samples]]]) -> None:
    print("3. GET /venues/{centrale}/orders (limit 50) as a till session, by orders at centrale")
    print(
        f"   {QUEUE_ROUNDS} interleaved rounds per size after {QUEUE_WARMUP} warm-up rounds"
        " (medians)"
    )
    labels = list(grown[0][1])
    print(f"   {'orders':>9} " + " ".join(f"{label:>22}" for label in labels))
    for count, samples in grown:
        print(f"   {count:>9} " + " ".join(f"{_ms(samples[label].median):>22}" for label in labels))
    print()


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.orders")
    parser.add_argument("--max-orders", type=int, default=STAGES[-1])
    args = parser.parse_args()
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from infra.local.issuer import in_memory_issuer

    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        _progress("starting Postgres, migrating and seeding a fresh database")
        with bench_database() as db, in_memory_issuer() as issuer:
            database = db.database
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
            print("Order benchmarks (python -m bench.orders)")
            print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            system, python = platform.system(), platform.python_version()
            print(f"  machine   {cores} cores, {system}, python {python}")
            print(f"  postgres  {db.server_version}, {db.origin}")
            print()
            _progress("counting round trips")
            counted = round_trips(database, issuer)
            stack = till_stack(database, issuer, database.venue_url, database.issuer_url)
            with psycopg.connect(database.admin_url) as admin:
                grown = queue_growth(stack, admin, args.max_orders)
                _progress("timing the routes against their bare SQL")
                creates, moves = write_cost(stack, admin)
            stack.venue.close()
            stack.issuing.close()
        report_round_trips(counted)
        report_write_cost(creates, moves)
        report_queue(grown)
    print(f"(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
