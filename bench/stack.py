"""What the benchmarks run against: a Postgres started the way the test suite starts it, a
fresh database seeded with the demo data, and the gate wired to one connection.

Nothing here is a fake: the same migrations, row-level security, runtime role and handlers
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
from infra.local.seed import CENTRALE, add_orders, seed
from tenancy.db import GateConnection
from tenancy.log import Log

__all__ = [
    "ORDERS",
    "BenchDatabase",
    "OneConnection",
    "api_event",
    "bench_database",
    "quiet_request_logs",
]

#: Orders at centrale during the run: the default page of GET /venues/{venue_id}/orders.
ORDERS = 50


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


def _ensure_orders(admin_url: str, count: int) -> None:
    """Exactly ``count`` orders at centrale, so the queue's page is full and known."""
    with psycopg.connect(admin_url) as admin:
        row = admin.execute(
            "SELECT count(*) FROM orders WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()
        have = int(row[0]) if row else 0
        if have > count:
            raise SystemExit(f"the seed put {have} orders at centrale; the bench needs {count}")
        add_orders(admin, "centrale", count - have)


@contextlib.contextmanager
def bench_database() -> Iterator[BenchDatabase]:
    """A fresh, migrated, seeded ``venue_bench_<hex>`` database, dropped afterwards."""
    server_url, origin = _start_server()
    name = f"venue_bench_{uuid.uuid4().hex[:10]}"
    database = postgres.prepare(server_url, name, fresh=True)
    try:
        seed(database.admin_url)
        _ensure_orders(database.admin_url, ORDERS)
        with psycopg.connect(database.admin_url) as admin:
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


def api_event(
    method: str,
    template: str,
    path: dict[str, str],
    token: str,
    *,
    body: str | None = None,
) -> dict[str, Any]:
    """An API Gateway (HTTP API, payload 2.0) event, shaped as the local gateway builds it."""
    raw_path = template.format(**path)
    headers = {
        "authorization": f"Bearer {token}",
        "content-type": "application/json",
        "user-agent": "bench",
    }
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
