"""Where a request gets its database connection.

Every request runs in one transaction on one connection; the venue is bound with
``set_config(..., true)`` inside it, so a connection returned to a pool (or to RDS Proxy)
carries no venue and never pins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Any, Protocol

import psycopg

__all__ = [
    "CONNECTION_OPTIONS",
    "ConnectionSource",
    "PooledConnections",
    "SingleConnection",
    "connect",
    "ending_transaction",
    "fetch_and_commit",
]


#: How the gate's connections are opened. ``autocommit``: the gate sends BEGIN and COMMIT
#: itself, so BEGIN can share the gate's round trip. ``prepare_threshold=None``: server-side
#: prepared statements would pin RDS Proxy sessions.
CONNECTION_OPTIONS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}


def connect(conninfo: str) -> psycopg.Connection:
    return psycopg.connect(conninfo, **CONNECTION_OPTIONS)


@contextmanager
def ending_transaction(conn: psycopg.Connection) -> Iterator[None]:
    """End the transaction the block began: COMMIT when it completes, ROLLBACK on any
    error, so a refusal or a failure writes nothing."""
    try:
        yield
    except BaseException:
        if not conn.closed and not conn.broken and _in_transaction(conn):
            conn.execute("ROLLBACK")
        raise
    if _in_transaction(conn):  # not already ended by fetch_and_commit
        conn.execute("COMMIT")


def _in_transaction(conn: psycopg.Connection) -> bool:
    from psycopg.pq import TransactionStatus

    return conn.info.transaction_status != TransactionStatus.IDLE


def fetch_and_commit(
    conn: psycopg.Connection, query: str, params: Mapping[str, Any] | Sequence[Any]
) -> list[tuple[Any, ...]]:
    """Run a read route's last statement and COMMIT in one round trip.

    For reads only: nothing after it can undo the transaction, and the venue binding ends
    with it (a later query would see no venue rows at all).
    """
    with conn.pipeline():
        cursor = conn.execute(query, params)
        conn.execute("COMMIT")
    return cursor.fetchall()


class ConnectionSource(Protocol):
    def connection(self) -> AbstractContextManager[psycopg.Connection]: ...


class SingleConnection:
    """One connection per Lambda container, opened on first use and reopened when broken.

    A Lambda container serves one request at a time, so a pool would only add cost.
    """

    def __init__(self, conninfo: Callable[[], str]) -> None:
        self._conninfo = conninfo
        self._conn: psycopg.Connection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[psycopg.Connection]:
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self._conninfo())
            yield self._conn


class PooledConnections:
    """A pool, for processes that serve requests in parallel (the local gateway, tests)."""

    def __init__(self, conninfo: str, *, max_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        self._pool = ConnectionPool(
            conninfo,
            min_size=1,
            max_size=max_size,
            kwargs=CONNECTION_OPTIONS,
            open=True,
        )

    def connection(self) -> AbstractContextManager[psycopg.Connection]:
        return self._pool.connection()

    def close(self) -> None:
        self._pool.close()
