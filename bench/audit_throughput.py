"""`make bench-audit` (python -m bench.audit_throughput): how fast the audit consumer appends
events to the hash chain, as a ratio of plain INSERTs of the same rows without chaining.

The database part is measured on its own, on a fresh migrated database, as the consumer
runs it (role app_audit, row-level security on, one pipelined connection per consumer):

- chained: ``audit.chain.append`` on events already in the outbox: the venue's advisory
  lock, the reads (already logged? the outbox rows, the chain's head), the hashes, the
  INSERTs, the outbox marked consumed, COMMIT; two round trips per transaction;
- plain: the same rows (same shape and size, same indexes, foreign key and row-level
  security) INSERTed into a copy of audit_log by the consumer's own multi-row INSERT, one
  round trip per transaction, no lock, no read, no hash, no outbox.

Both run with one event per transaction and with ten (an SQS batch of one venue), for one
chain (A and B alternating batch by batch) and for ten venues in parallel (ten connections,
whole runs alternating). The emulator's S3 (moto's server, over loopback HTTP, as `make dev`
runs it) is reported apart: it is not S3, and its figures say only what the emulator costs.

It reports; it never fails on a miss. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import atexit
import contextlib
import datetime as dt
import functools
import os
import platform
import secrets
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from audit.alerts import Limits, Publisher
from audit.chain import append
from audit.consume import consume
from audit.copies import BucketCopies
from audit.pipeline import AuditPipeline
from infra.local import aws, postgres
from infra.local.audit import lambda_sqs_event
from infra.local.seed import USER, seed
from tenancy.audit import OutboxEvent
from tenancy.db import GateConnection, PooledConnections, connect

#: What the issue asks of one chain, unbatched, and aims for with batching.
TARGET = 0.5
AIM_BATCHED = 0.8
BATCH = 10
SINGLE_ROUNDS, SINGLE_WARMUP = 600, 60
BATCH_ROUNDS, BATCH_WARMUP = 300, 30
PARALLEL_VENUES, PARALLEL_BATCHES, PARALLEL_RUNS = 10, 40, 3
S3_PUTS = 300
CONSUMER_BATCHES = 40
LIMITS = Limits()

_PLAIN_TABLE = """
CREATE TABLE public.bench_plain_log (LIKE public.audit_log INCLUDING ALL);
ALTER TABLE public.bench_plain_log ADD FOREIGN KEY (venue_id) REFERENCES public.venues (id);
ALTER TABLE public.bench_plain_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE public.bench_plain_log FORCE ROW LEVEL SECURITY;
CREATE POLICY bench_plain_log_consumer ON public.bench_plain_log FOR ALL TO app_audit
    USING (true) WITH CHECK (true);
GRANT SELECT, INSERT ON public.bench_plain_log TO app_audit;
"""
# The consumer's own INSERT (audit.chain._APPEND), without the outbox it marks consumed.
_PLAIN_INSERT = """
INSERT INTO public.bench_plain_log (event_id, venue_id, seq, prev_hash, hash, event)
SELECT * FROM unnest(%(ids)s::uuid[], %(venues)s::uuid[], %(seqs)s::bigint[],
                     %(prev_hashes)s::bytea[], %(hashes)s::bytea[], %(events)s::jsonb[])
"""
_OUTBOX = """
INSERT INTO public.audit_outbox (id, venue_id, actor_user_id, action, target_type, target_id,
                                 details)
SELECT gen_random_uuid(), %(venue)s, %(actor)s, 'menu.price_changed', 'menu_item',
       gen_random_uuid()::text,
       jsonb_build_object('previous_price_cents', 1600, 'price_cents', 1600 + g)
FROM generate_series(1, %(count)s) AS g
RETURNING id
"""


def _progress(message: str) -> None:
    print(f"[bench-audit] {message}", file=sys.stderr, flush=True)


@contextlib.contextmanager
def _database() -> Iterator[tuple[postgres.Database, str, str]]:
    """A fresh, migrated, seeded database (DATABASE_URL's server, or an embedded one in a
    temporary directory), dropped afterwards; its origin and server version."""
    server_url, origin = os.environ.get("DATABASE_URL", ""), "DATABASE_URL"
    if not server_url:
        scratch = Path(tempfile.mkdtemp(prefix="venue-bench-audit-"))
        # Registered before pgserver registers its own clean-up, so it runs after the server
        # has stopped (atexit is LIFO), as bench/stack.py does.
        atexit.register(shutil.rmtree, scratch, ignore_errors=True)
        server_url = postgres.server_url(scratch / "data", delete_on_exit=True)
        origin = "embedded (pgserver)"
    name = f"venue_bench_audit_{uuid.uuid4().hex[:8]}"
    database = postgres.prepare(server_url, name, fresh=True)
    try:
        seed(database.admin_url)
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            admin.execute(_PLAIN_TABLE)
            row = admin.execute("SHOW server_version").fetchone()
        yield database, origin, str(row[0]) if row else "?"
    finally:
        postgres.drop(server_url, name)


class Venues:
    """Venues made for the bench, each with events waiting in the outbox, and the plain
    rows of the same shape, ready to insert."""

    def __init__(self, admin_url: str) -> None:
        self.admin_url = admin_url

    def new(self, events: int) -> tuple[uuid.UUID, list[uuid.UUID]]:
        venue, group = uuid.uuid4(), uuid.uuid4()
        with psycopg.connect(self.admin_url, autocommit=True) as admin:
            admin.execute("INSERT INTO venue_groups (id, name) VALUES (%s, 'Bench')", (group,))
            admin.execute(
                "INSERT INTO venues (id, group_id, name, slug) VALUES (%s, %s, 'Bench', %s)",
                (venue, group, f"bench-{venue.hex[:12]}"),
            )
            ids = admin.execute(
                _OUTBOX, {"venue": venue, "actor": USER["manager"].id, "count": events}
            ).fetchall()
        return venue, [row[0] for row in ids]


def plain_rows(venue: uuid.UUID, count: int) -> Iterator[tuple[Any, ...]]:
    """Rows as the consumer writes them (an event of the same size, 32-byte hashes)."""
    for seq in range(1, count + 1):
        event_id = uuid.uuid4()
        event = {
            "v": 1,
            "id": str(event_id),
            "venue_id": str(venue),
            "actor_user_id": str(USER["manager"].id),
            "action": "menu.price_changed",
            "target_type": "menu_item",
            "target_id": str(uuid.uuid4()),
            "details": {"previous_price_cents": 1600, "price_cents": 1600 + seq},
            "critical": False,
            "occurred_at": f"{dt.datetime.now(dt.UTC):%Y-%m-%dT%H:%M:%S.%fZ}",
        }
        yield (event_id, venue, seq, secrets.token_bytes(32), secrets.token_bytes(32), event)


def insert_plain(conn: GateConnection, rows: Sequence[tuple[Any, ...]]) -> None:
    """The rows in one transaction, one statement, one round trip."""
    columns = list(zip(*rows, strict=True))
    with conn.request():
        conn.execute("BEGIN")
        conn.execute(
            _PLAIN_INSERT,
            {
                "ids": list(columns[0]),
                "venues": list(columns[1]),
                "seqs": list(columns[2]),
                "prev_hashes": list(columns[3]),
                "hashes": list(columns[4]),
                "events": [Jsonb(event) for event in columns[5]],
            },
        )
        conn.execute("COMMIT")


def _batches(items: Sequence[Any], size: int) -> Iterator[list[Any]]:
    for start in range(0, len(items), size):
        yield list(items[start : start + size])


@dataclass(frozen=True)
class Rate:
    label: str
    chained: float
    plain: float

    @property
    def ratio(self) -> float:
        return self.chained / self.plain


def _connect(url: str, durable: bool) -> GateConnection:
    """A consumer's connection; not ``durable``: commits do not wait for the disk
    (synchronous_commit off), which leaves the work itself to compare."""
    conn = connect(url)
    if not durable:
        with conn.request():
            conn.execute("SET synchronous_commit = off")
    return conn


def _suffix(durable: bool) -> str:
    return "" if durable else ", no fsync wait"


def one_chain(
    database: postgres.Database,
    venues: Venues,
    size: int,
    rounds: int,
    warmup: int,
    *,
    durable: bool = True,
) -> Rate:
    """One venue, one connection each: chained and plain transactions of ``size`` events,
    alternating; events per second from the median transaction."""
    venue, ids = venues.new(size * (rounds + warmup))
    batches = _batches(ids, size)
    plain = _batches(list(plain_rows(venues.new(0)[0], size * (rounds + warmup))), size)
    chained_times: list[float] = []
    plain_times: list[float] = []
    clock = time.perf_counter
    with (
        _connect(database.audit_url, durable) as chain_conn,
        _connect(database.audit_url, durable) as plain_conn,
    ):
        for index in range(rounds + warmup):
            start = clock()
            append(chain_conn, venue, next(batches), LIMITS)
            middle = clock()
            insert_plain(plain_conn, next(plain))
            end = clock()
            if index >= warmup:
                chained_times.append(middle - start)
                plain_times.append(end - middle)
    label = f"one chain, {size} per transaction{_suffix(durable)}"
    return Rate(
        label, size / statistics.median(chained_times), size / statistics.median(plain_times)
    )


def _in_parallel(work: Sequence[Callable[[], None]]) -> float:
    """Wall seconds for ``work`` run on as many threads, started together."""
    start_line = threading.Barrier(len(work) + 1)

    def run(job: Callable[[], None]) -> None:
        start_line.wait()
        job()

    threads = [threading.Thread(target=run, args=(job,)) for job in work]
    for thread in threads:
        thread.start()
    start_line.wait()
    started = time.perf_counter()
    for thread in threads:
        thread.join()
    return time.perf_counter() - started


def parallel(database: postgres.Database, venues: Venues, *, durable: bool = True) -> Rate:
    """Ten venues at once, ten connections, batches of ten; whole runs alternate."""
    per_run = PARALLEL_BATCHES * BATCH
    chained_walls: list[float] = []
    plain_walls: list[float] = []
    connections = [_connect(database.audit_url, durable) for _ in range(PARALLEL_VENUES)]
    try:
        for _ in range(PARALLEL_RUNS):
            made = [venues.new(per_run) for _ in range(PARALLEL_VENUES)]

            def chained(conn: GateConnection, venue: uuid.UUID, ids: list[uuid.UUID]) -> None:
                for batch in _batches(ids, BATCH):
                    append(conn, venue, batch, LIMITS)

            chained_walls.append(
                _in_parallel(
                    [
                        functools.partial(chained, conn, venue, ids)
                        for conn, (venue, ids) in zip(connections, made, strict=True)
                    ]
                )
            )
            rows = [list(plain_rows(venue, per_run)) for venue, _ in made]

            def plain(conn: GateConnection, venue_rows: list[tuple[Any, ...]]) -> None:
                for batch in _batches(venue_rows, BATCH):
                    insert_plain(conn, batch)

            plain_walls.append(
                _in_parallel(
                    [
                        functools.partial(plain, conn, venue_rows)
                        for conn, venue_rows in zip(connections, rows, strict=True)
                    ]
                )
            )
    finally:
        for conn in connections:
            conn.close()
    total = PARALLEL_VENUES * per_run
    return Rate(
        f"{PARALLEL_VENUES} venues in parallel, {BATCH} per transaction{_suffix(durable)}",
        total / statistics.median(chained_walls),
        total / statistics.median(plain_walls),
    )


@dataclass(frozen=True)
class Emulator:
    puts_one_at_a_time: float
    puts_in_parallel: float
    consumer: float


def emulator(database: postgres.Database, venues: Venues) -> Emulator:
    """Locked puts into the emulator's bucket, and the whole consumer (database, puts,
    Powertools) on one chain, against moto's server as `make dev` runs it."""
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        endpoint = f"http://{host}:{port}"
        local = aws.provision(endpoint, database.venue_url)
        s3 = aws.client(endpoint, "s3")
        sqs = aws.client(endpoint, "sqs")
        copies = BucketCopies(local.audit_bucket, client=lambda: s3)
        connections = PooledConnections(database.audit_url, max_size=4)
        try:
            venue, ids = venues.new(S3_PUTS + 10 * S3_PUTS)
            with connections.connection() as conn:
                logged = [
                    item
                    for batch in _batches(ids, BATCH)
                    for item in append(conn, venue, batch, LIMITS).logged.values()
                ]
            started = time.perf_counter()
            for item in logged[:S3_PUTS]:
                copies.put(item)
            one = S3_PUTS / (time.perf_counter() - started)
            rest = logged[S3_PUTS:]

            def put_all(part: list[Any]) -> None:
                for item in part:
                    copies.put(item)

            wall = _in_parallel([functools.partial(put_all, rest[i::10]) for i in range(10)])
            many = len(rest) / wall

            sns = aws.client(endpoint, "sns")
            pipeline = AuditPipeline(
                database=connections,
                copies=copies,
                alerts=Publisher(local.alerts_topic_arn, client=lambda: sns),
            )
            venue, ids = venues.new(CONSUMER_BATCHES * BATCH)
            arn = sqs.get_queue_attributes(
                QueueUrl=local.audit_queue_url, AttributeNames=["QueueArn"]
            )
            events = [
                lambda_sqs_event(
                    [
                        {
                            "MessageId": str(uuid.uuid4()),
                            "ReceiptHandle": str(uuid.uuid4()),
                            "Body": OutboxEvent(event_id, venue).message_body(),
                            "Attributes": {
                                "ApproximateReceiveCount": "1",
                                "MessageGroupId": str(venue),
                                "MessageDeduplicationId": str(event_id),
                            },
                        }
                        for event_id in batch
                    ],
                    arn["Attributes"]["QueueArn"],
                )
                for batch in _batches(ids, BATCH)
            ]
            started = time.perf_counter()
            for event in events:
                answer = consume(event, pipeline)
                assert answer == {"batchItemFailures": []}, answer
            consumer_rate = len(ids) / (time.perf_counter() - started)
        finally:
            connections.close()
    finally:
        server.stop()
    return Emulator(one, many, consumer_rate)


def _cpu_model() -> str:
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown CPU"


def report(origin: str, version: str, rates: list[Rate], s3: Emulator) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("Audit pipeline throughput (python -m bench.audit_throughput)")
    print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine   {cores} cores (nproc), {_cpu_model()}, {platform.system()}")
    print(f"  python    {platform.python_implementation()} {platform.python_version()}")
    print(f"  postgres  {version}, {origin}")
    print()
    print("1. Database part: events appended per second, chained vs plain INSERTs of the same rows")
    print("   (role app_audit, row-level security on, pipelined connections, medians;")
    print("   commits wait for the disk, as in production)")
    print(f"   {'':40} {'chained/s':>10} {'plain/s':>10} {'ratio':>7}  target")
    for rate in rates:
        if rate.label.endswith(_suffix(durable=False)):
            continue
        batched = f"{BATCH} per transaction" in rate.label
        goal = f">= {TARGET}" + (f" (aim {AIM_BATCHED})" if batched else "")
        verdict = "PASS" if rate.ratio >= TARGET else "MISS"
        if batched and rate.ratio >= AIM_BATCHED:
            verdict += ", aim met"
        print(
            f"   {rate.label:<40} {rate.chained:>10.0f} {rate.plain:>10.0f} {rate.ratio:>7.2f}"
            f"  {goal}  {verdict}"
        )
    print()
    print("   The same without waiting for the disk (synchronous_commit off on both sides): what")
    print("   the chaining itself costs (a second round trip, the lock, the reads, the hashes, the")
    print("   outbox marked consumed); a diagnostic, not a target.")
    for rate in rates:
        if rate.label.endswith(_suffix(durable=False)):
            label = rate.label.removesuffix(_suffix(durable=False))
            print(f"   {label:<40} {rate.chained:>10.0f} {rate.plain:>10.0f} {rate.ratio:>7.2f}")
    print()
    print("2. The emulator's S3 (moto's server, loopback HTTP), apart: not S3's figures")
    lines = [
        ("locked puts (If-None-Match, SHA-256, COMPLIANCE), one at a time", s3.puts_one_at_a_time),
        ("locked puts, ten threads", s3.puts_in_parallel),
        ("the whole consumer, one chain, batches of ten (DB + puts)", s3.consumer),
    ]
    for label, per_second in lines:
        print(f"   {label:<66} {per_second:>7.0f}/s")


def main() -> None:
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    _progress("starting Postgres, migrating and seeding a fresh database")
    with _database() as (database, origin, version):
        venues = Venues(database.admin_url)
        rates = []
        for durable in (True, False):
            _progress(f"one chain, one event per transaction{_suffix(durable)}")
            rates.append(
                one_chain(database, venues, 1, SINGLE_ROUNDS, SINGLE_WARMUP, durable=durable)
            )
            _progress(f"one chain, ten events per transaction{_suffix(durable)}")
            rates.append(
                one_chain(database, venues, BATCH, BATCH_ROUNDS, BATCH_WARMUP, durable=durable)
            )
            _progress(f"ten venues in parallel{_suffix(durable)}")
            rates.append(parallel(database, venues, durable=durable))
        _progress("the emulator's S3 and the whole consumer")
        s3 = emulator(database, venues)
    report(origin, version, rates, s3)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
