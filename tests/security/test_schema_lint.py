"""Lints the live schema for the rules of docs/architecture.md, "Row-level security"."""

from __future__ import annotations

import psycopg

from infra.migrate import RUNTIME_ROLE


def test_every_venue_scoped_table_has_forced_row_level_security_and_a_policy(
    admin_db: psycopg.Connection,
) -> None:
    """Given the migrated schema, every table with a venue_id column has RLS enabled and
    forced and at least one policy, so no query can reach another venue's rows."""
    rows = admin_db.execute(
        """
        SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity,
               (SELECT count(*) FROM pg_policy p WHERE p.polrelid = c.oid) AS policies
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'venue_id' AND NOT a.attisdropped
        WHERE c.relkind IN ('r', 'p') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
        """
    ).fetchall()

    assert len(rows) >= 8, rows
    offenders = [
        name for name, enabled, forced, policies in rows if not (enabled and forced and policies)
    ]
    assert offenders == []


def test_the_runtime_role_owns_nothing_and_cannot_bypass_row_level_security(
    admin_db: psycopg.Connection,
) -> None:
    """Given the runtime role, it is no superuser, has no BYPASSRLS and owns no object:
    policies always apply to it and it cannot alter them."""
    role = admin_db.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
        " WHERE rolname = %s",
        (RUNTIME_ROLE,),
    ).fetchone()
    owned = admin_db.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE r.rolname = %(role)s
        UNION ALL
        SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
        WHERE r.rolname = %(role)s
        UNION ALL
        SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
        WHERE r.rolname = %(role)s
        """,
        {"role": RUNTIME_ROLE},
    ).fetchall()

    assert role == (False, False, False, False)
    assert owned == []


def test_no_security_definer_function_is_executable_by_the_runtime_role(
    admin_db: psycopg.Connection,
) -> None:
    """A SECURITY DEFINER function runs with its owner's rights, around row-level security."""
    definers = admin_db.execute(
        """
        SELECT n.nspname || '.' || p.proname
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        WHERE p.prosecdef
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_function_privilege(%s, p.oid, 'EXECUTE')
        """,
        (RUNTIME_ROLE,),
    ).fetchall()

    assert definers == []


def test_no_view_lets_the_runtime_role_read_around_row_level_security(
    admin_db: psycopg.Connection,
) -> None:
    """Views run with their owner's rights unless security_invoker is set."""
    views = admin_db.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_table_privilege(%s, c.oid, 'SELECT')
          AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
        """,
        (RUNTIME_ROLE,),
    ).fetchall()

    assert views == []
