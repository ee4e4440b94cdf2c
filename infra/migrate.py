"""Apply infra/migrations/*.sql in order, once each, as the owner role.

Run with an administrative connection (the RDS master user, or the local server's
superuser). It creates the owner and runtime roles when missing, takes an advisory lock so
concurrent deploys wait for each other, and applies each pending file in its own
transaction: a failed migration leaves nothing half-applied.

    python -m infra.migrate "postgresql://admin@host/db" [--runtime-password ...]
"""

from __future__ import annotations

import argparse
import hashlib
import os
from pathlib import Path

import psycopg
from psycopg import sql

MIGRATIONS = Path(__file__).parent / "migrations"
OWNER_ROLE = "app_owner"
RUNTIME_ROLE = "app_runtime"
_LOCK_KEY = 0x7665_6E75  # "venu"


def _ensure_role(conn: psycopg.Connection, role: str, password: str | None) -> None:
    exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", (role,)).fetchone()
    verb = "ALTER" if exists else "CREATE"
    statement = sql.SQL("{} ROLE {} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOBYPASSRLS").format(
        sql.SQL(verb), sql.Identifier(role)
    )
    if password:
        statement = sql.SQL("{} PASSWORD {}").format(statement, sql.Literal(password))
    conn.execute(statement)


def migrate(admin_url: str, *, runtime_password: str | None = None) -> list[str]:
    """Apply pending migrations; returns the names applied in this run."""
    applied: list[str] = []
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_advisory_lock(%s)", (_LOCK_KEY,))
        try:
            database = conn.info.dbname
            _ensure_role(conn, OWNER_ROLE, None)
            _ensure_role(conn, RUNTIME_ROLE, runtime_password)
            conn.execute(
                sql.SQL("GRANT CREATE, CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(OWNER_ROLE)
                )
            )
            conn.execute(
                sql.SQL("GRANT CONNECT ON DATABASE {} TO {}").format(
                    sql.Identifier(database), sql.Identifier(RUNTIME_ROLE)
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
        finally:
            conn.execute("SELECT pg_advisory_unlock(%s)", (_LOCK_KEY,))
    return applied


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("admin_url", nargs="?", default=os.environ.get("ADMIN_DATABASE_URL"))
    parser.add_argument("--runtime-password", default=os.environ.get("RUNTIME_DB_PASSWORD"))
    args = parser.parse_args()
    if not args.admin_url:
        parser.error("give the admin connection string or set ADMIN_DATABASE_URL")
    for name in migrate(args.admin_url, runtime_password=args.runtime_password):
        print(f"applied {name}")


if __name__ == "__main__":
    main()
