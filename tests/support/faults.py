"""Real faults for the fault campaigns: a Postgres server of their own (embedded, as the
suite's is) that a test may stop, restart or cut connections of, and a way to find the
backend a request is waiting in. The suite's shared server is never touched."""

from __future__ import annotations

import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg

from infra.local import postgres
from infra.local.seed import seed

__all__ = [
    "DedicatedPostgres",
    "Emulator",
    "InThread",
    "dedicated_postgres",
    "emulator",
    "in_thread",
    "wait_for",
]


@dataclass
class DedicatedPostgres:
    """A server with one migrated, seeded database, for faults nobody else must feel."""

    server: Any
    database: postgres.Database

    def stop(self) -> None:
        """``pg_ctl stop -m fast``: every client is disconnected, new ones are refused."""
        from pgserver._commands import pg_ctl  # type: ignore[attr-defined]

        pg_ctl(
            ["-w", "-m", "fast", "stop"], pgdata=self.server.pgdata, user=self.server.system_user
        )

    def start(self) -> None:
        """Starts it again, on the same socket, with the same data."""
        with self.server._lock:
            self.server.ensure_postgres_running()

    def terminate_waiting(self, role: str, *, bound: float = 30.0) -> int:
        """``pg_terminate_backend`` on the one backend of ``role`` waiting for a lock (a
        request caught mid-transaction); its pid."""
        with psycopg.connect(self.database.admin_url, autocommit=True) as admin:

            def waiting() -> int | None:
                row = admin.execute(
                    "SELECT pid FROM pg_stat_activity WHERE usename = %s"
                    " AND wait_event_type = 'Lock'",
                    (role,),
                ).fetchone()
                return None if row is None else int(row[0])

            pid: int = wait_for(waiting, bound=bound, what=f"a {role} backend waiting for a lock")
            admin.execute("SELECT pg_terminate_backend(%s)", (pid,))
            return pid


def wait_for(probe: Callable[[], Any], *, bound: float, what: str) -> Any:
    """``probe()`` once it is truthy. ``bound`` guards against a hang; it measures nothing."""
    deadline = time.monotonic() + bound
    while True:
        found = probe()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"never saw {what}")
        time.sleep(0.05)


@contextmanager
def dedicated_postgres(data_dir: Path) -> Iterator[DedicatedPostgres]:
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="delete")
    try:
        database = postgres.prepare(
            server.get_uri(), f"venue_faults_{uuid.uuid4().hex[:8]}", fresh=True
        )
        seed(database.admin_url, orders_per_venue=3)
        yield DedicatedPostgres(server, database)
    finally:
        server.cleanup()


@dataclass
class InThread:
    """A call running on its own thread; ``result()`` waits for it (bounded)."""

    thread: threading.Thread
    outcome: dict[str, Any]

    def result(self, bound: float = 60.0) -> Any:
        self.thread.join(bound)
        assert not self.thread.is_alive(), "the call never returned"
        if "error" in self.outcome:
            raise self.outcome["error"]
        return self.outcome["value"]


def in_thread(call: Callable[[], Any]) -> InThread:
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = call()
        except BaseException as error:  # handed to the caller by result()
            outcome["error"] = error

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    return InThread(thread, outcome)


class Emulator:
    """The AWS emulator (moto's server) as a process of its own on a fixed port: stopped,
    it is unreachable (connections refused); started again, it is empty, as a region that
    came back would not be, so the test provisions it again."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.endpoint = f"http://127.0.0.1:{port}"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def listening() -> bool:
            with socket.socket() as probe:
                return probe.connect_ex(("127.0.0.1", self.port)) == 0

        wait_for(listening, bound=60, what="the AWS emulator listening")

    def stop(self) -> None:
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=30)
            self._process = None


@contextmanager
def emulator(port: int) -> Iterator[Emulator]:
    running = Emulator(port)
    running.start()
    try:
        yield running
    finally:
        running.stop()
