"""Where a request gets its database connection.

Every request runs in one transaction on one connection; the venue is bound with
``set_config(..., true)`` inside it, so a connection returned to a pool (or to RDS Proxy)
carries no venue and never pins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Protocol

import psycopg

__all__ = ["ConnectionSource", "PooledConnections", "SingleConnection", "connect"]


def connect(conninfo: str) -> psycopg.Connection:
    """A connection set up the way the gate expects.

    ``prepare_threshold=None``: server-side prepared statements pin RDS Proxy sessions.
    """
    return psycopg.connect(conninfo, autocommit=False, prepare_threshold=None)


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
            kwargs={"autocommit": False, "prepare_threshold": None},
            open=True,
        )

    def connection(self) -> AbstractContextManager[psycopg.Connection]:
        return self._pool.connection()

    def close(self) -> None:
        self._pool.close()
