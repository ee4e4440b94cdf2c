"""A Postgres server for `make dev` and the test suite: the one in DATABASE_URL, or an
embedded, pip-installed one (pgserver) when it is unset."""

from __future__ import annotations

import base64
import secrets
from dataclasses import dataclass
from pathlib import Path

import psycopg
from psycopg import sql
from psycopg.conninfo import make_conninfo

from infra.migrate import (
    AUDIT_ROLE,
    ISSUER_ROLE,
    LOGIN_ROLES,
    PAYMENTS_ROLE,
    VENUE_ROLE,
    WEBHOOK_ROLE,
    migrate,
)


@dataclass(frozen=True)
class Database:
    #: The superuser (or RDS master) connection: migrations, seeding, test set-up.
    admin_url: str
    #: What the venue and account functions connect as (app_venue).
    venue_url: str
    #: What the issuer's functions connect as (app_issuer).
    issuer_url: str
    #: What the audit consumer connects as (app_audit).
    audit_url: str
    #: The key the gate signs its bindings with (``id:base64``), installed in this database.
    binding_key: str
    name: str
    #: What the Stripe webhook ingress connects as (app_webhook).
    webhook_url: str = ""
    #: What the webhook processor connects as (app_payments).
    payments_url: str = ""


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
    passwords = {role: secrets.token_urlsafe(18) for role in LOGIN_ROLES}
    binding_key = "local:" + base64.b64encode(secrets.token_bytes(32)).decode()
    migrate(admin_url, passwords=passwords, binding_key=binding_key)

    def url(role: str) -> str:
        return make_conninfo(admin_url, user=role, password=passwords[role])

    return Database(
        admin_url=admin_url,
        venue_url=url(VENUE_ROLE),
        issuer_url=url(ISSUER_ROLE),
        audit_url=url(AUDIT_ROLE),
        binding_key=binding_key,
        name=name,
        webhook_url=url(WEBHOOK_ROLE),
        payments_url=url(PAYMENTS_ROLE),
    )


def drop(server_admin_url: str, name: str) -> None:
    with psycopg.connect(server_admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
