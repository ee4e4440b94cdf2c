"""What the benchmarks run against: a Postgres started the way the test suite starts it, a
fresh database seeded with the demo data, and the gate wired to one connection.

Nothing here is a fake: the same migrations, row-level security, database roles and handlers
as in production; only the network between the function and the database is local.
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import shutil
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

import psycopg

from infra.local import postgres
from infra.local.seed import CENTRALE, DEMO_PASSWORD, NORD, add_orders, demo_id, seed
from tenancy.db import GateConnection
from tenancy.log import Log
from tenancy.permissions import ROLE_DEFAULTS, Role

__all__ = [
    "ACCOUNT_USER",
    "MANY_ORDERS",
    "MANY_VENUES",
    "MANY_VENUES_USER",
    "ONE_VENUE_USER",
    "ORDERS",
    "BenchDatabase",
    "BenchUser",
    "OneConnection",
    "api_event",
    "bench_database",
    "one_trip",
    "quiet_request_logs",
]

#: Orders at centrale during the run: the default page of GET /venues/{venue_id}/orders.
ORDERS = 50
#: Orders at nord during the run: the same page of 50, read from a venue with many more.
MANY_ORDERS = 5000
#: Venues of the bench's own group, every one of them attached to ``MANY_VENUES_USER``.
MANY_VENUES = 200


@dataclass(frozen=True)
class BenchUser:
    """An account the bench adds to the demo data (admin SQL), attached to venues of the
    bench's own group: ``venues`` of them."""

    key: str
    venues: int

    @property
    def id(self) -> uuid.UUID:
        return demo_id(f"user:{self.key}")

    @property
    def email(self) -> str:
        return f"{self.key}@bench.example"


#: The venue switcher (GET /me/venues) read for one venue and for many.
ONE_VENUE_USER = BenchUser("bench-one-venue", 1)
MANY_VENUES_USER = BenchUser("bench-many-venues", MANY_VENUES)
#: The account whose own credentials the bench changes (password, TOTP): no venue at all.
ACCOUNT_USER = BenchUser("bench-account", 0)
_SCALE_GROUP = demo_id("group:bench-scale")


@dataclass(frozen=True)
class BenchDatabase:
    database: postgres.Database
    #: "embedded (pgserver)" or "DATABASE_URL".
    origin: str
    server_version: str


def _start_server() -> tuple[str, str]:
    """The server's admin URL and where it came from: DATABASE_URL, else our own pgserver
    in a temporary directory that is deleted when the process exits (as the tests do)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured, "DATABASE_URL"
    scratch = Path(tempfile.mkdtemp(prefix="venue-bench-"))
    # Registered before pgserver registers its own clean-up, so it runs after it (LIFO).
    atexit.register(shutil.rmtree, scratch, ignore_errors=True)
    return postgres.server_url(scratch / "data", delete_on_exit=True), "embedded (pgserver)"


def _ensure_orders(admin: psycopg.Connection, slug: str, venue_id: uuid.UUID, count: int) -> None:
    """Exactly ``count`` orders at the venue, so the queue's page is full and known."""
    row = admin.execute("SELECT count(*) FROM orders WHERE venue_id = %s", (venue_id,)).fetchone()
    have = int(row[0]) if row else 0
    if have > count:
        raise SystemExit(f"the seed put {have} orders at {slug}; the bench needs {count}")
    add_orders(admin, slug, count - have)


def _add_bench_accounts(admin: psycopg.Connection) -> None:
    """The bench's group of ``MANY_VENUES`` venues and its accounts (admin SQL): one
    attached to a single venue, one to all of them, and one attached nowhere."""
    from auth.passwords import hash_password

    admin.execute(
        "INSERT INTO venue_groups (id, name) VALUES (%s, 'bench scale group')", (_SCALE_GROUP,)
    )
    admin.execute(
        "INSERT INTO venues (id, group_id, name, slug)"
        " SELECT gen_random_uuid(), %s, 'bench venue ' || n,"
        "        'bench-venue-' || lpad(n::text, 3, '0')"
        " FROM generate_series(1, %s) n",
        (_SCALE_GROUP, MANY_VENUES),
    )
    admin.execute(
        "INSERT INTO venue_settings (venue_id) SELECT id FROM venues WHERE group_id = %s",
        (_SCALE_GROUP,),
    )
    password_hash = hash_password(DEMO_PASSWORD)
    for user in (ONE_VENUE_USER, MANY_VENUES_USER, ACCOUNT_USER):
        admin.execute(
            "INSERT INTO users (id, email, display_name, password_hash, password_changed_at)"
            " VALUES (%s, %s, %s, %s, now())",
            (user.id, user.email, f"Bench ({user.key})", password_hash),
        )
        admin.execute(
            "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
            " SELECT id, %s, %s, %s FROM venues WHERE group_id = %s ORDER BY slug LIMIT %s",
            (
                user.id,
                Role.WAITER.value,
                int(ROLE_DEFAULTS[Role.WAITER]),
                _SCALE_GROUP,
                user.venues,
            ),
        )


@contextlib.contextmanager
def bench_database() -> Iterator[BenchDatabase]:
    """A fresh, migrated, seeded ``venue_bench_<hex>`` database, dropped afterwards."""
    server_url, origin = _start_server()
    name = f"venue_bench_{uuid.uuid4().hex[:10]}"
    database = postgres.prepare(server_url, name, fresh=True)
    try:
        seed(database.admin_url)
        with psycopg.connect(database.admin_url) as admin:
            _ensure_orders(admin, "centrale", CENTRALE, ORDERS)
            _ensure_orders(admin, "nord", NORD, MANY_ORDERS)
            _add_bench_accounts(admin)
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            # Fresh statistics for the planner, as a live database would have.
            admin.execute("ANALYZE")
            row = admin.execute("SHOW server_version").fetchone()
        yield BenchDatabase(database, origin, str(row[0]) if row else "?")
    finally:
        postgres.drop(server_url, name)


class OneConnection:
    """A ConnectionSource over a single connection, as a warm Lambda container holds one;
    the bare query runs on the very same connection, so both sides pay the same network."""

    def __init__(self, conn: GateConnection) -> None:
        self.conn = conn

    @contextlib.contextmanager
    def connection(self) -> Iterator[GateConnection]:
        yield self.conn


def one_trip(conn: GateConnection, query: str, params: Any = None) -> list[tuple[Any, ...]]:
    """``query`` alone, in its own implicit transaction: one round trip (Parse, Bind,
    Describe, Execute, Sync), whether or not the connection already keeps its pipeline."""
    cursor = conn.execute(query, params)
    conn.sync()
    return cursor.fetchall()


def api_event(
    method: str,
    template: str,
    path: dict[str, str],
    token: str | None,
    *,
    body: str | None = None,
    content_type: str = "application/json",
) -> dict[str, Any]:
    """An API Gateway (HTTP API, payload 2.0) event, shaped as the local gateway builds it;
    ``token`` None: no Authorization header (public routes)."""
    raw_path = template.format(**path)
    headers = {"content-type": content_type, "user-agent": "bench"}
    if token is not None:
        headers["authorization"] = f"Bearer {token}"
    return {
        "version": "2.0",
        "routeKey": f"{method} {template}",
        "rawPath": raw_path,
        "rawQueryString": "",
        "headers": headers,
        "queryStringParameters": None,
        "pathParameters": path,
        "requestContext": {
            "http": {
                "method": method,
                "path": raw_path,
                "protocol": "HTTP/1.1",
                "sourceIp": "127.0.0.1",
                "userAgent": "bench",
            },
            "requestId": str(uuid.uuid4()),
            "routeKey": f"{method} {template}",
            "stage": "$default",
        },
        "body": body,
        "isBase64Encoded": False,
    }


def quiet_request_logs(null: IO[str]) -> None:
    """The gate writes one JSON log line per request; that formatting is part of its cost,
    so it stays, but the lines go to ``null`` instead of the terminal."""
    with contextlib.redirect_stdout(null):
        # The first line builds the Powertools logger, whose handler keeps the stream it
        # was built with: the null one.
        Log().info("bench: request logs are discarded")
    for handler in logging.getLogger("venue-backend").handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (
            sys.stdout,
            sys.__stdout__,
        ):
            handler.setStream(null)
