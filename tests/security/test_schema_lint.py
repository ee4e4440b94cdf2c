"""Lints the live schema: row-level security on every venue table, policies that check both
bindings, roles that cannot be turned, and a grants matrix equal to the documented one
(docs/architecture.md, "Row-level security"; docs/database-roles.md)."""

from __future__ import annotations

import re

import psycopg
import pytest

from infra.migrate import GATEKEEPER_ROLE, LEGACY_RUNTIME_ROLE, LOGIN_ROLES, VENUE_ROLE
from tests.conftest import ROOT

RUNTIME_ROLES = (*LOGIN_ROLES, GATEKEEPER_ROLE, LEGACY_RUNTIME_ROLE)
DOCUMENTED = ROOT / "docs/database-roles.md"

# Role, table and privilege, with the columns where a grant is narrower than the table.
GRANTS_MATRIX = """
WITH roles AS (SELECT unnest(%(roles)s::text[]) AS role),
tables AS (
    SELECT c.oid, n.nspname || '.' || c.relname AS name, c.relname
    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'v', 'm') AND n.nspname IN ('public', 'app')
),
privileges AS (SELECT unnest(ARRAY['SELECT', 'INSERT', 'UPDATE', 'DELETE', 'TRUNCATE',
                                   'REFERENCES', 'TRIGGER']) AS privilege)
SELECT r.role, t.name, p.privilege,
       CASE WHEN has_table_privilege(r.role, t.oid, p.privilege) THEN ''
            ELSE (SELECT string_agg(a.attname, ',' ORDER BY a.attnum)
                  FROM pg_attribute a
                  WHERE a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
                    AND has_column_privilege(r.role, t.oid, a.attnum, p.privilege)) END
FROM roles r CROSS JOIN tables t CROSS JOIN privileges p
WHERE has_table_privilege(r.role, t.oid, p.privilege)
   OR (p.privilege IN ('SELECT', 'INSERT', 'UPDATE', 'REFERENCES')
       AND has_any_column_privilege(r.role, t.oid, p.privilege))
ORDER BY 1, 2, 3
"""


def live_grants(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(GRANTS_MATRIX, {"roles": list(RUNTIME_ROLES)}).fetchall()
    return [
        f"{role:<15} {table:<28} {privilege}" + (f" ({columns})" if columns else "")
        for role, table, privilege, columns in rows
    ]


def documented_grants() -> list[str]:
    text = DOCUMENTED.read_text()
    block = re.search(r"```grants\n(.*?)```", text, re.S)
    assert block, f"{DOCUMENTED} has no ```grants block"
    return [line.rstrip() for line in block.group(1).splitlines() if line.strip()]


def test_the_grants_matrix_is_the_documented_one(admin_db: psycopg.Connection) -> None:
    """Given the migrated schema, every privilege any function role holds on any table (not
    only the venue tables) is exactly what docs/database-roles.md lists."""
    live = live_grants(admin_db)
    print("\n".join(live))

    assert live == documented_grants()


def test_every_venue_scoped_table_has_forced_row_level_security_and_a_policy(
    admin_db: psycopg.Connection,
) -> None:
    """Every table with a venue_id column has RLS enabled and forced and at least one policy,
    so no query can reach another venue's rows."""
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


def test_every_policy_of_the_venue_role_checks_the_signed_bindings(
    admin_db: psycopg.Connection,
) -> None:
    """Each policy that applies to the venue functions compares with a bound venue or user
    and asks the binding verifier (attachment, flags, signature) in every expression."""
    policies = admin_db.execute(
        "SELECT tablename, policyname, roles::text[], qual, with_check FROM pg_policies"
    ).fetchall()
    offenders = []
    for table, name, roles, *expressions in policies:
        if "public" in roles:
            offenders.append((table, name, "applies to every role"))
        if VENUE_ROLE not in roles:
            continue
        for expression in filter(None, expressions):
            binds = "current_venue_id()" in expression or "current_user_id()" in expression
            if not (binds and "binding_allows(" in expression):
                offenders.append((table, name, expression))

    assert offenders == []


@pytest.mark.parametrize("role", RUNTIME_ROLES)
def test_no_function_role_can_be_turned(admin_db: psycopg.Connection, role: str) -> None:
    """No superuser, no BYPASSRLS, no role or database creation, no object owned, no
    temporary tables, no CREATE on any schema: only the migration owner creates objects."""
    attributes = admin_db.execute(
        "SELECT rolsuper, rolbypassrls, rolcreaterole, rolcreatedb FROM pg_roles"
        " WHERE rolname = %s",
        (role,),
    ).fetchone()
    owned = admin_db.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_roles r ON r.oid = c.relowner
        WHERE r.rolname = %(role)s
        UNION ALL
        SELECT p.proname FROM pg_proc p JOIN pg_roles r ON r.oid = p.proowner
        WHERE r.rolname = %(role)s AND p.proname <> 'binding_allows'
        UNION ALL
        SELECT n.nspname FROM pg_namespace n JOIN pg_roles r ON r.oid = n.nspowner
        WHERE r.rolname = %(role)s
        """,
        {"role": role},
    ).fetchall()
    may_create = admin_db.execute(
        """
        SELECT has_database_privilege(%(role)s, current_database(), 'TEMPORARY'),
               has_database_privilege(%(role)s, current_database(), 'CREATE'),
               has_schema_privilege(%(role)s, 'public', 'CREATE'),
               has_schema_privilege(%(role)s, 'app', 'CREATE')
        """,
        {"role": role},
    ).fetchone()

    assert attributes == (False, False, False, False)
    assert owned == []
    assert may_create == (False, False, False, False)


def test_the_only_security_definer_function_is_the_binding_verifier(
    admin_db: psycopg.Connection,
) -> None:
    """A SECURITY DEFINER function runs with its owner's rights: the one a function role may
    call is the binding verifier, which answers a boolean."""
    definers = admin_db.execute(
        """
        SELECT DISTINCT n.nspname || '.' || p.proname, format_type(p.prorettype, NULL)
        FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
        CROSS JOIN unnest(%s::text[]) AS r(role)
        WHERE p.prosecdef
          AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND has_function_privilege(r.role, p.oid, 'EXECUTE')
        """,
        (list(RUNTIME_ROLES),),
    ).fetchall()

    assert definers == [("app.binding_allows", "boolean")]


def test_no_view_lets_a_function_role_read_around_row_level_security(
    admin_db: psycopg.Connection,
) -> None:
    """Views run with their owner's rights unless security_invoker is set."""
    views = admin_db.execute(
        """
        SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind IN ('v', 'm') AND n.nspname NOT IN ('pg_catalog', 'information_schema')
          AND NOT coalesce('security_invoker=true' = ANY (c.reloptions), false)
        """
    ).fetchall()

    assert views == []
