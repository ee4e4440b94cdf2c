"""Apply infra/migrations/*.sql in order, once each, as the owner role.

Run with an administrative connection (the RDS master user, or the local server's
superuser). It creates the roles when missing (one per duty, see docs/architecture.md),
takes an advisory lock so concurrent deploys wait for each other, applies each pending file
in its own transaction (a failed migration leaves nothing half-applied), and installs the
key that signs the gate's bindings where only the verifier can read it.

    VENUE_DB_PASSWORD=... ISSUER_DB_PASSWORD=... AUDIT_DB_PASSWORD=... \
    WEBHOOK_DB_PASSWORD=... PAYMENTS_DB_PASSWORD=... BINDING_KEY=id:base64 \
        python -m infra.migrate "postgresql://admin@host/db"
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import os
from collections.abc import Mapping
from pathlib import Path

import psycopg
from psycopg import sql

MIGRATIONS = Path(__file__).parent / "migrations"
OWNER_ROLE = "app_owner"
#: The roles functions log in as, one per duty.
VENUE_ROLE = "app_venue"
ISSUER_ROLE = "app_issuer"
AUDIT_ROLE = "app_audit"
#: The Stripe webhook ingress (inserts verified events, nothing else) and their processor.
WEBHOOK_ROLE = "app_webhook"
PAYMENTS_ROLE = "app_payments"
LOGIN_ROLES = (VENUE_ROLE, ISSUER_ROLE, AUDIT_ROLE, WEBHOOK_ROLE, PAYMENTS_ROLE)
#: Owns the binding verifier; nobody logs in as it.
GATEKEEPER_ROLE = "app_gatekeeper"
#: The single runtime role of the first migrations; 0003 takes every privilege from it and
#: it can no longer log in. It stays only because those applied files name it.
LEGACY_RUNTIME_ROLE = "app_runtime"
_LOCK_KEY = 0x7665_6E75  # "venu"


def _ensure_role(
    conn: psycopg.Connection, role: str, password: str | None, *, login: bool = True
) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL("{} ROLE {} {} NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(
        sql.SQL(verb), sql.Identifier(role), sql.SQL("LOGIN" if login else "NOLOGIN")
    )
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    conn.execute(statement)


def binding_key_pads(setting: str) -> tuple[str, bytes, bytes]:
    """(key id, key XOR ipad, key XOR opad) of a binding key given as ``id:base64``: the
    database verifies HMAC-SHA256 (RFC 2104) from the two padded keys with sha256() alone."""
    key_id, _, encoded = setting.partition(":")
    key = base64.b64decode(encoded, validate=True)
    if not key_id or len(key) < 32 or len(key) > 64:
        raise ValueError("a binding key is 'id:base64' with 32 to 64 bytes of key")
    padded = key.ljust(64, b"\0")
    return (
        key_id,
        bytes(b ^ 0x36 for b in padded),
        bytes(b ^ 0x5C for b in padded),
    )


def migrate(
    admin_url: str,
    *,
    passwords: Mapping[str, str] | None = None,
    binding_key: str | None = None,
) -> list[str]:
    """Apply pending migrations; returns the names applied in this run.

    ``passwords`` sets the login roles' passwords (role name → password); ``binding_key``
    (``id:base64``) is added to the keys the binding verifier accepts.
    """
    passwords = passwords or {}
    applied: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            database = sql.Identifier(conn.info.dbname)
            _ensure_role(conn, OWNER_ROLE, None)
            for role in LOGIN_ROLES:
                _ensure_role(conn, role, passwords.get(role))
            _ensure_role(conn, GATEKEEPER_ROLE, None, login=False)
            _ensure_role(conn, LEGACY_RUNTIME_ROLE, None, login=False)
            conn.execute(
                sql.SQL("GRANT CREATE, CONNECT ON DATABASE {} TO {}").format(
                    database, sql.Identifier(OWNER_ROLE)
                )
            )
            # No temporary tables for anyone but the owner: a temp table named like a real
            # one would shadow it on a reused connection.
            conn.execute(
                sql.SQL("REVOKE TEMPORARY, CONNECT ON DATABASE {} FROM PUBLIC").format(database)
            )
            for role in LOGIN_ROLES:
                conn.execute(
                    sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                        database, sql.Identifier(role)
                    )
                )
            # The owner hands the verifier function over to the gatekeeper.
            conn.execute(
                sql.SQL("GRANT {} TO {}").format(
                    sql.Identifier(GATEKEEPER_ROLE), sql.Identifier(OWNER_ROLE)
                )
            )
            conn.execute(f"GRANT {OWNER_ROLE} TO current_user")
            conn.execute(f"GRANT USAGE, CREATE ON SCHEMA public TO {OWNER_ROLE}")
            conn.execute("REVOKE CREATE ON SCHEMA public FROM PUBLIC")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " name text PRIMARY KEY, checksum text NOT NULL,"
                " applied_at timestamptz NOT NULL DEFAULT now())"
            )
            # The readiness check (GET /health/ready, the deploy's PreTraffic hook) asks,
            # as the venue role, whether the schema is at the version the code expects.
            conn.execute(
                sql.SQL("GRANT SELECT ON schema_migrations TO {}").format(
                    sql.Identifier(VENUE_ROLE)
                )
            )
            done: dict[str, str] = dict(
                conn.execute("SELECT name, checksum FROM schema_migrations").fetchall()
            )
            for path in sorted(MIGRATIONS.glob("*.sql")):
                text = path.read_text()
                checksum = hashlib.sha256(text.encode()).hexdigest()
                if path.name in done:
                    if done[path.name] != checksum:
                        raise RuntimeError(f"{path.name} changed after it was applied")
                    continue
                with conn.transaction():
                    conn.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
                    conn.execute(text.encode())
                    conn.execute("RESET ROLE")
                    conn.execute(
                        "INSERT INTO schema_migrations (name, checksum) VALUES (%s, %s)",
                        (path.name, checksum),
                    )
                applied.append(path.name)
            if binding_key:
                key_id, inner, outer = binding_key_pads(binding_key)
                conn.execute(
                    "INSERT INTO app.binding_keys (id, inner_pad, outer_pad) VALUES (%s, %s, %s)"
                    " ON CONFLICT (id) DO UPDATE SET inner_pad = EXCLUDED.inner_pad,"
                    " outer_pad = EXCLUDED.outer_pad",
                    (key_id, inner, outer),
                )
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("ADMIN_DATABASE_URL"))
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("give the admin connection string or set ADMIN_DATABASE_URL")
    passwords = {
        role: os.environ[variable]
        for role, variable in (
            (VENUE_ROLE, "VENUE_DB_PASSWORD"),
            (ISSUER_ROLE, "ISSUER_DB_PASSWORD"),
            (AUDIT_ROLE, "AUDIT_DB_PASSWORD"),
            (WEBHOOK_ROLE, "WEBHOOK_DB_PASSWORD"),
            (PAYMENTS_ROLE, "PAYMENTS_DB_PASSWORD"),
        )
        if os.environ.get(variable)
    }
    binding_key = os.environ.get("BINDING_KEY")
    for name in migrate(args.admin_url, passwords=passwords, binding_key=binding_key):
        print(f"applied {name}")


if __name__ == "__main__":
    main()
