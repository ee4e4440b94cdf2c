"""`make dev` started for a test module, as a person starts it (python -m infra.local.dev),
on a free port, with its own state folder, against the suite's Postgres server."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from infra.local import postgres

__all__ = ["DevStack", "dev_stack", "free_port"]

ROOT = Path(__file__).resolve().parents[2]
#: The database `make dev` keeps its data in (infra/local/dev.py).
DEV_DATABASE = "venue_dev"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class DevStack:
    url: str
    state: Path
    #: The administrative connection to the stack's database (for Given steps).
    admin_url: str
    banner: list[str]


@contextmanager
def dev_stack(server_url: str, state: Path) -> Iterator[DevStack]:
    """`make dev` on free ports, on a fresh ``venue_dev`` database: each stack has an AWS
    emulator of its own, so the audit trail a previous stack of the suite left there would
    have its locked copies in a bucket that is gone."""
    with psycopg.connect(server_url, autocommit=True) as admin:
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(DEV_DATABASE))
        )
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": server_url,
        "PORT": str(port),
        "AWS_PORT": str(free_port()),
        "DEV_STATE_DIR": str(state),
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "functions", "layers/tenancy")),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "infra.local.dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    deadline = time.monotonic() + 120  # a guard against a hang, not a measurement
    banner: list[str] = []
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        banner.append(line)
        if "Ctrl-C stops everything" in line or process.poll() is not None:
            break
    # Its log lines are read (and dropped) as they come, so a full pipe never stops it.
    threading.Thread(target=lambda: [None for _ in process.stdout or ()], daemon=True).start()
    try:
        assert "Ctrl-C stops everything" in "".join(banner), "".join(banner)
        yield DevStack(
            f"http://127.0.0.1:{port}",
            state,
            make_conninfo(server_url, dbname=DEV_DATABASE),
            banner,
        )
    finally:
        process.kill()
        process.wait(timeout=30)
        # Its database goes with it: the next module's `make dev` starts from the seed alone,
        # not from audit rows whose copies were in this stack's (in-memory) emulator.
        postgres.drop(server_url, DEV_DATABASE)
