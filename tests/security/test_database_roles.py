"""What one SQL injection in a function could do with its database role: the attacks of the
hardening review, each refused by the database itself."""

from __future__ import annotations

import psycopg
import pytest

from infra.local.seed import CENTRALE, NORD, USER
from tests.conftest import Bind

CHEF = USER["head_chef"].id

VENUE_ROLE_ATTACKS = {
    "forge an audit_log row": (
        "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
        " VALUES (gen_random_uuid(), %(venue)s, 1, '\\x00', '\\x00', '{}')"
    ),
    "write a platform-level audit event": (
        "INSERT INTO audit_outbox (id, venue_id, action, target_type)"
        " VALUES (gen_random_uuid(), NULL, 'auth.lockout', 'user')"
    ),
    "write another venue's audit event": (
        "INSERT INTO audit_outbox (id, venue_id, action, target_type)"
        " VALUES (gen_random_uuid(), %(nord)s, 'menu.price_changed', 'menu_item')"
    ),
    "take over an account's password": "UPDATE users SET password_hash = 'x' WHERE id = %(user)s",
    "read password hashes": "SELECT password_hash FROM users",
    "read TOTP secrets": "SELECT secret_sealed FROM user_totp",
    "drop someone's second factor": "DELETE FROM user_totp",
    "forget failed sign-ins": "DELETE FROM sign_in_failures",
    "read refresh tokens": "SELECT token_hash FROM refresh_tokens",
    "read till secrets": "SELECT secret_hash FROM oauth_clients",
    "read recovery codes": "SELECT code_hash FROM mfa_recovery_codes",
    "read the binding key": "SELECT * FROM app.binding_keys",
    "shadow a table with a temporary one": "CREATE TEMP TABLE venue_attachments (x int)",
    "create a table": "CREATE TABLE public.backdoor (x int)",
    "create a function": "CREATE FUNCTION app.f() RETURNS int LANGUAGE sql AS 'SELECT 1'",
    "revoke someone's session": "UPDATE auth_sessions SET revoked_at = now()",
    "make oneself platform admin": "UPDATE users SET is_platform_admin = true WHERE id = %(user)s",
}


@pytest.mark.parametrize("statement", VENUE_ROLE_ATTACKS.values(), ids=VENUE_ROLE_ATTACKS.keys())
def test_the_venue_role_cannot_do_what_an_injection_would_want(
    runtime_db: psycopg.Connection, bind: Bind, statement: str
) -> None:
    """Given the venue role with centrale genuinely bound for its head chef (as inside any
    venue handler), when an injected statement tries the attack, the database refuses it."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
        bind(runtime_db, user_id=CHEF, venue_id=CENTRALE)
        runtime_db.execute(statement, {"venue": CENTRALE, "nord": NORD, "user": CHEF})


ISSUER_ROLE_ATTACKS = {
    "forge an audit_log row": (
        "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
        " VALUES (gen_random_uuid(), NULL, 1, '\\x00', '\\x00', '{}')"
    ),
    "write a venue's audit event": (
        "INSERT INTO audit_outbox (id, venue_id, action, target_type)"
        " VALUES (gen_random_uuid(), %(venue)s, 'menu.price_changed', 'menu_item')"
    ),
    "read venue orders": "SELECT * FROM orders",
    "change a price": "UPDATE menu_item_prices SET price_cents = 1",
    "attach someone": (
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%(venue)s, %(user)s, 'owner', 1)"
    ),
    "make oneself platform admin": "UPDATE users SET is_platform_admin = true WHERE id = %(user)s",
    "shadow a table with a temporary one": "CREATE TEMP TABLE users (x int)",
}


@pytest.mark.parametrize("statement", ISSUER_ROLE_ATTACKS.values(), ids=ISSUER_ROLE_ATTACKS.keys())
def test_the_issuer_role_cannot_touch_venue_data_or_the_audit_log(
    issuer_db: psycopg.Connection, statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), issuer_db.transaction():
        issuer_db.execute(statement, {"venue": CENTRALE, "user": CHEF})


def test_only_the_audit_consumer_appends_to_the_audit_log(
    database: object, admin_db: psycopg.Connection
) -> None:
    """The control: the consumer's role may append (and nothing may rewrite)."""
    from infra.local import postgres

    assert isinstance(database, postgres.Database)
    with psycopg.connect(database.audit_url) as audit, audit.transaction(force_rollback=True):
        audit.execute(
            "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
            " VALUES (gen_random_uuid(), %s, 999999, '\\x00', '\\x00', '{}')",
            (CENTRALE,),
        )
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            audit.execute("UPDATE audit_log SET event = '{}'")
