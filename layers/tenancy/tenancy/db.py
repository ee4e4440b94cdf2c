"""Where a request gets its database connection, and how its results wait for the gate.

Every request runs in one transaction on one connection, in pipeline mode: the gate's
statements and the handler's travel together, and nothing is read back until the handler
needs a result. That first read is the moment the gate decides (``before_first_result``),
so a refused caller never sees the rows row-level security already withheld, and a read
route's whole transaction is one round trip. Settings are transaction-local, so a
connection returned to a pool (or to RDS Proxy) carries no venue and never pins.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, suppress
from typing import Any, Protocol

import psycopg
from psycopg.rows import Row

__all__ = [
    "CONNECTION_OPTIONS",
    "ConnectionSource",
    "GateConnection",
    "GateCursor",
    "PooledConnections",
    "SingleConnection",
    "connect",
]


class GateCursor(psycopg.Cursor[Row]):
    """A cursor whose first read lets the gate decide first."""

    def execute(self, *args: Any, **kwargs: Any) -> GateCursor[Row]:
        conn = self.connection
        if isinstance(conn, GateConnection) and conn.transaction_ended:
            raise RuntimeError(
                "this read route's transaction ended with its first result: send every"
                " statement before reading any (see docs/architecture.md, 'Round trips')"
            )
        super().execute(*args, **kwargs)
        if isinstance(conn, GateConnection):
            conn.unsynced = True
        return self

    def _results_needed(self) -> None:
        conn = self.connection
        if isinstance(conn, GateConnection):
            conn.results_needed()

    def fetchone(self) -> Row | None:
        self._results_needed()
        return super().fetchone()

    def fetchmany(self, size: int = 0) -> list[Row]:
        self._results_needed()
        return super().fetchmany(size)

    def fetchall(self) -> list[Row]:
        self._results_needed()
        return super().fetchall()

    def __iter__(self) -> Iterator[Row]:  # type: ignore[override]
        self._results_needed()
        return super().__iter__()


class GateConnection(psycopg.Connection[Any]):
    """A connection that runs a hook before the first result of a request is read, and
    stays in pipeline mode, so a request's last statements and its Sync leave together."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = GateCursor
        self._before_first_result: Callable[[], None] | None = None
        #: Set once a read route's COMMIT has been sent: later statements are refused.
        self.transaction_ended = False
        self._kept: psycopg.Pipeline | None = None
        #: A statement was sent since the last Sync: its transaction is still open (a read's
        #: implicit one too, which libpq's transaction status does not show before a Sync).
        self.unsynced = False
        self._pipeline_context: AbstractContextManager[psycopg.Pipeline] | None = None
        #: The audit events this request wrote to the outbox (``tenancy.audit.note``): once
        #: ``request`` has ended without an error they are committed, and the gate hands
        #: them to the relay. A failed request forgets them with its transaction.
        self.audit_events: list[Any] = []

    @contextmanager
    def request(self) -> Iterator[None]:
        """One request's statements: queued in the connection's pipeline and synced at the
        end (or earlier, by ``sync``). Whatever escapes, the transaction writes nothing."""
        if self._kept is None:
            # Entered for the connection's life: exiting would cost one more Sync.
            self._pipeline_context = self.pipeline()
            self._kept = self._pipeline_context.__enter__()
        self.new_request()
        self.audit_events = []
        try:
            yield
            self.sync()
        except BaseException:
            self.audit_events = []
            self._recover()
            raise
        finally:
            self.new_request()

    def close(self) -> None:
        # Closed first, the pipeline ended after: ended on a live connection, the pipeline
        # would send a Sync and maybe a Flush nobody needs, and a pooler (RDS Proxy,
        # PgBouncer) drops a server connection its client leaves in mid-exchange.
        super().close()
        self._end_pipeline()

    def _end_pipeline(self) -> None:
        """Leave pipeline mode for good. Also on a lost connection (it fails at once then):
        left to the garbage collector, psycopg would log "error ignored terminating" for
        every lost connection, whenever the collector ran."""
        context, self._pipeline_context, self._kept = self._pipeline_context, None, None
        if context is not None:
            with suppress(psycopg.Error):
                context.__exit__(None, None, None)

    def sync(self) -> None:
        """Send what is queued with a Sync and read every result; nothing sent since the
        last Sync, no trip. (Results read before, with a Flush, leave the transaction open:
        the Sync still goes, and ends it.)"""
        pipeline = self._kept
        if pipeline is not None and (
            pipeline.command_queue or pipeline.result_queue or self.unsynced
        ):
            pipeline.sync()
            self.unsynced = False

    def _recover(self) -> None:
        from psycopg.pq import TransactionStatus

        if self.closed or self.broken:
            self._end_pipeline()
            return
        from psycopg.pq import PipelineStatus

        # A Sync only when something is left to send or read, or an error aborted the
        # pipeline: a refusal whose results were all read costs no extra round trip.
        pipeline = self._kept
        aborted = self.pgconn.pipeline_status == PipelineStatus.ABORTED
        if pipeline is not None and (
            pipeline.command_queue or pipeline.result_queue or self.unsynced or aborted
        ):
            with suppress(psycopg.Error):
                if self.unsynced and not aborted:
                    # A read has no BEGIN: the Sync alone would commit what it wrote.
                    self.new_request()
                    self.execute("ROLLBACK")
                pipeline.sync()
            self.unsynced = False
        if self.info.transaction_status != TransactionStatus.IDLE:
            # Also after a failed COMMIT of a read that had already ended its transaction.
            self.new_request()
            self.execute("ROLLBACK")
            self.sync()

    def begin(self, *, read: bool) -> None:
        """Start the request's transaction. A write spans two round trips: BEGIN. A read is
        one round trip, and what it sends up to its Sync is one transaction already (the
        extended protocol's implicit transaction: committed at the Sync, rolled back if a
        statement failed), so it sends neither BEGIN nor COMMIT: two statements fewer. (Such
        a transaction takes ``set_config(..., true)``; ``SET LOCAL`` would warn.)"""
        if not read:
            self.execute("BEGIN")

    def end_read(self) -> None:
        """A read's transaction ends with the Sync that sends everything it queued."""
        self.transaction_ended = True
        self.sync()

    def take_audit_events(self) -> list[Any]:
        """The events the last request committed (see ``audit_events``), once."""
        events, self.audit_events = self.audit_events, []
        return events

    def new_request(self) -> None:
        """Forget what the previous request on this connection left behind."""
        self._before_first_result = None
        self.transaction_ended = False

    def before_first_result(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` before the first result of this request is read."""
        self._before_first_result = hook

    def drop_hook(self) -> None:
        self._before_first_result = None

    def results_needed(self) -> None:
        hook, self._before_first_result = self._before_first_result, None
        if hook is not None:
            hook()


#: How the gate's connections are opened. ``autocommit``: the gate sends BEGIN and COMMIT
#: itself, so both share a round trip with other statements. ``prepare_threshold=None``:
#: server-side prepared statements would pin RDS Proxy sessions.
CONNECTION_OPTIONS: dict[str, Any] = {"autocommit": True, "prepare_threshold": None}


def connect(conninfo: str) -> GateConnection:
    return GateConnection.connect(conninfo, **CONNECTION_OPTIONS)


class ConnectionSource(Protocol):
    def connection(self) -> AbstractContextManager[GateConnection]: ...


class SingleConnection:
    """One connection per Lambda container, opened on first use and reopened when broken.

    A Lambda container serves one request at a time, so a pool would only add cost.
    """

    def __init__(self, conninfo: Callable[[], str]) -> None:
        self._conninfo = conninfo
        self._conn: GateConnection | None = None
        self._lock = threading.Lock()

    @contextmanager
    def connection(self) -> Iterator[GateConnection]:
        with self._lock:
            if self._conn is None or self._conn.closed or self._conn.broken:
                self._conn = connect(self._conninfo())
            yield self._conn


class PooledConnections:
    """A pool, for processes that serve requests in parallel (the local gateway, tests)."""

    def __init__(self, conninfo: str, *, max_size: int = 10) -> None:
        from psycopg_pool import ConnectionPool

        self._pool: Any = ConnectionPool(
            conninfo,
            connection_class=GateConnection,
            min_size=1,
            max_size=max_size,
            kwargs=CONNECTION_OPTIONS,
            open=True,
        )

    def connection(self) -> AbstractContextManager[GateConnection]:
        pooled: AbstractContextManager[GateConnection] = self._pool.connection()
        return pooled

    def close(self) -> None:
        self._pool.close()
