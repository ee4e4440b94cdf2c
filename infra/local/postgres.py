"""A Postgres server for `make dev` and the test suite: the one in DATABASE_URL, or an
embedded, pip-installed one (pgserver) when it is unset."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from infra.migrate import RUNTIME_ROLE, migrate


@dataclass(frozen=True)
class Database:
    #: The superuser (or RDS master) connection: migrations, seeding, test set-up.
    admin_url: str
    #: The runtime role's connection: what every function uses.
    runtime_url: str
    name: str


def server_url(data_dir: Path, *, delete_on_exit: bool) -> str:
    """Start (or reuse) an embedded server with its data in ``data_dir``; its admin URL."""
    import pgserver

    data_dir.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(data_dir, cleanup_mode="delete" if delete_on_exit else "stop")
    return str(server.get_uri())


def prepare(server_admin_url: str, name: str, *, fresh: bool) -> Database:
    """Create (or, with ``fresh``, recreate) database ``name`` and migrate it."""
    with psycopg.connect(server_admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if exists and fresh:
            conn.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        if not exists or fresh:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    admin_url = make_conninfo(server_admin_url, dbname=name)
    password = secrets.token_urlsafe(18)
    migrate(admin_url, runtime_password=password)
    runtime_url = make_conninfo(admin_url, user=RUNTIME_ROLE, password=password)
    return Database(admin_url=admin_url, runtime_url=runtime_url, name=name)


def drop(server_admin_url: str, name: str) -> None:
    with psycopg.connect(server_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
