"""PgBouncer in transaction mode in front of a Postgres server, standing in for RDS Proxy's
multiplexing: many client connections share a few server connections, each server
connection going to whichever client starts a transaction next. `make pgbouncer` installs
Debian's package; without it the pooler test skips, saying so."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.conninfo import conninfo_to_dict, make_conninfo

from tests.support.dev_stack import free_port
from tests.support.faults import wait_for

__all__ = ["ADMIN", "Pooler", "binary", "pgbouncer"]

#: The user of PgBouncer's admin console (SHOW POOLS, SHOW SERVERS).
ADMIN = "pgbouncer_admin"


def binary() -> str | None:
    found = shutil.which("pgbouncer")
    if found:
        return found
    return "/usr/sbin/pgbouncer" if os.access("/usr/sbin/pgbouncer", os.X_OK) else None


@dataclass(frozen=True)
class Pooler:
    port: int
    server_connections: int
    log: Path

    def server_closes(self) -> list[str]:
        """Why PgBouncer closed server connections so far (its log's "closing because")."""
        return [
            line.split("closing because:", 1)[1].strip()
            for line in self.log.read_text().splitlines()
            if " S-0x" in line and "closing because:" in line
        ]

    def url(self, conninfo: str) -> str:
        """``conninfo`` (a role's connection to the server) through the pooler."""
        return make_conninfo(conninfo, host="127.0.0.1", port=str(self.port), password="")

    def show(self, what: str) -> list[dict[str, Any]]:
        """A ``SHOW`` of the admin console (POOLS, SERVERS, STATS ...), as dicts."""
        console = make_conninfo(
            host="127.0.0.1", port=str(self.port), dbname="pgbouncer", user=ADMIN
        )
        with psycopg.connect(console, autocommit=True, prepare_threshold=None) as conn:
            cursor = conn.cursor()
            cursor.execute(f"SHOW {what}")  # the console knows no parameters
            names = [c.name for c in cursor.description or []]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def _unprivileged_user() -> str:
    """The user embedded Postgres runs as when started by root (it can reach the server's
    socket), else ``nobody``."""
    import pwd

    try:
        pwd.getpwnam("pgserver")
    except KeyError:
        return "nobody"
    return "pgserver"


@contextmanager
def pgbouncer(server_conninfo: str, *, server_connections: int = 10) -> Iterator[Pooler]:
    """PgBouncer (transaction mode, at most ``server_connections`` to the server) in front
    of the server ``server_conninfo`` names; clients sign in without a password (loopback)."""
    executable = binary()
    assert executable is not None
    target = conninfo_to_dict(server_conninfo)
    port = free_port()
    # PgBouncer will not run as root: it switches to another user, who must read this folder.
    folder = Path(tempfile.mkdtemp(prefix="pgbouncer-"))
    folder.chmod(0o755)
    users = sorted({ADMIN, "app_venue", "app_issuer", "app_audit", str(target.get("user", ""))})
    (folder / "users.txt").write_text("".join(f'"{u}" ""\n' for u in users if u))
    server = " ".join(f"{key}={target[key]}" for key in ("host", "port") if target.get(key))
    (folder / "pgbouncer.ini").write_text(
        "[databases]\n"
        f"* = {server}\n"
        "[pgbouncer]\n"
        "listen_addr = 127.0.0.1\n"
        f"listen_port = {port}\n"
        "unix_socket_dir =\n"
        "auth_type = trust\n"
        f"auth_file = {folder / 'users.txt'}\n"
        f"admin_users = {ADMIN}\n"
        "pool_mode = transaction\n"
        f"default_pool_size = {server_connections}\n"
        f"max_db_connections = {server_connections}\n"
        "max_client_conn = 2000\n"
        "ignore_startup_parameters = extra_float_digits,options\n"
        "server_reset_query =\n"
        "log_connections = 0\n"
        "log_disconnections = 1\n"
    )
    for path in folder.iterdir():
        path.chmod(0o644)
    command = [executable, str(folder / "pgbouncer.ini")]
    if os.geteuid() == 0:
        command[1:1] = ["-u", _unprivileged_user()]
    log = (folder / "stderr.log").open("w")
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)

    def listening() -> bool:
        assert process.poll() is None, (folder / "stderr.log").read_text()
        with socket.socket() as probe:
            return probe.connect_ex(("127.0.0.1", port)) == 0

    try:
        wait_for(listening, bound=30, what="pgbouncer listening")
        yield Pooler(port, server_connections, folder / "stderr.log")
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()
        shutil.rmtree(folder, ignore_errors=True)
