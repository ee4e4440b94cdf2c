"""The payments roles against an injected statement: the webhook ingress's role can insert
Stripe's events and do nothing else; the processor's reaches venue rows only through its
signed service binding, for the venue bound, and that binding opens nothing to any other
role."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from infra.local import postgres
from infra.local.seed import CENTRALE, NORD
from tenancy.bindings import PAYMENTS_SERVICE, BindingKey


@pytest.fixture
def webhook_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database.webhook_url) as conn:
        yield conn


@pytest.fixture
def payments_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    with psycopg.connect(database.payments_url) as conn:
        yield conn


def bind_service(conn: psycopg.Connection, key: str, venue: uuid.UUID) -> None:
    bindings = BindingKey.from_setting(key).bind(
        user_id=None, session_id=PAYMENTS_SERVICE, venue_id=venue, mfa=False
    )
    conn.execute(bindings.SQL, bindings.as_params())


WEBHOOK_ROLE_ATTACKS = {
    "read stored events": "SELECT body FROM stripe_events",
    "mark an event processed": "UPDATE stripe_events SET status = 'processed'",
    "delete events": "DELETE FROM stripe_events",
    "read checkouts": "SELECT * FROM checkouts",
    "place an order": (
        "INSERT INTO orders (id, venue_id, number, status, channel)"
        " VALUES (gen_random_uuid(), %(venue)s, 999999, 'placed', 'online')"
    ),
    "write an audit event": (
        "INSERT INTO audit_outbox (id, venue_id, action, target_type)"
        " VALUES (gen_random_uuid(), %(venue)s, 'payment.succeeded', 'order')"
    ),
    "read the binding key": "SELECT * FROM app.binding_keys",
}


@pytest.mark.parametrize(
    "statement", WEBHOOK_ROLE_ATTACKS.values(), ids=WEBHOOK_ROLE_ATTACKS.keys()
)
def test_the_webhook_role_can_do_nothing_but_store_an_event(
    webhook_db: psycopg.Connection, statement: str
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), webhook_db.transaction():
        webhook_db.execute(statement, {"venue": CENTRALE})


def test_the_webhook_role_cannot_store_an_event_as_already_processed(
    webhook_db: psycopg.Connection,
) -> None:
    with pytest.raises(psycopg.errors.InsufficientPrivilege), webhook_db.transaction():
        webhook_db.execute(
            "INSERT INTO stripe_events (id, endpoint, type, livemode, stripe_created, body,"
            " status, processed_at) VALUES ('evt_injected', 'platform', 'x', false, now(), '{}',"
            " 'processed', now())"
        )


def test_the_processor_sees_only_the_venue_it_bound(
    payments_db: psycopg.Connection, database: postgres.Database
) -> None:
    """Given the processor's role with centrale bound as the service, then it reads
    centrale's orders and none of nord's; unbound, or with the settings set by hand, it
    reads none at all."""
    with payments_db.transaction():
        bind_service(payments_db, database.binding_key, CENTRALE)
        venues = payments_db.execute("SELECT DISTINCT venue_id FROM orders").fetchall()
    with payments_db.transaction():
        unbound = payments_db.execute("SELECT count(*) FROM orders").fetchone()
    with payments_db.transaction():
        payments_db.execute(
            "SELECT set_config('app.venue_id', %s, true),"
            " set_config('app.session_id', 'service:payments', true)",
            (str(NORD),),
        )
        forged = payments_db.execute("SELECT count(*) FROM orders").fetchone()

    assert venues == [(CENTRALE,)]
    assert unbound == (0,)
    assert forged == (0,)


def test_the_service_binding_opens_nothing_to_the_venue_role(
    runtime_db: psycopg.Connection, database: postgres.Database
) -> None:
    """Given the venue functions' role holding a genuine service binding (signed with the
    key), then it sees no venue row: the verifier honours it for app_payments only."""
    with runtime_db.transaction():
        bind_service(runtime_db, database.binding_key, CENTRALE)
        seen = runtime_db.execute("SELECT count(*) FROM orders").fetchone()
        allowed = runtime_db.execute("SELECT app.binding_allows(0)").fetchone()

    assert seen == (0,)
    assert allowed == (False,)


PROCESSOR_ATTACKS = {
    "change an order's total": "UPDATE orders SET total_cents = 1",
    "cancel an order": "UPDATE orders SET status = 'cancelled'",
    "delete an order": "DELETE FROM orders",
    "place a till order": (
        "INSERT INTO orders (id, venue_id, number, status, channel)"
        " VALUES (gen_random_uuid(), %(venue)s, 999999, 'placed', 'till')"
    ),
    "read credentials": "SELECT password_hash FROM users",
    "write an audit event in a person's name": (
        "INSERT INTO audit_outbox (id, venue_id, actor_user_id, action, target_type)"
        " SELECT gen_random_uuid(), %(venue)s, id, 'payment.succeeded', 'order' FROM users"
    ),
    "append to the audit log": (
        "INSERT INTO audit_log (event_id, venue_id, seq, prev_hash, hash, event)"
        " VALUES (gen_random_uuid(), %(venue)s, 1, '\\x00', '\\x00', '{}')"
    ),
    "change a venue's settings": "UPDATE venue_settings SET refund_alert_threshold_cents = 0",
}


@pytest.mark.parametrize("statement", PROCESSOR_ATTACKS.values(), ids=PROCESSOR_ATTACKS.keys())
def test_the_processor_role_cannot_do_what_an_injection_would_want(
    payments_db: psycopg.Connection, database: postgres.Database, statement: str
) -> None:
    """Given the processor's role with centrale bound (as while it places an order), when an
    injected statement tries the attack, the database refuses it."""
    with pytest.raises(psycopg.errors.InsufficientPrivilege), payments_db.transaction():
        bind_service(payments_db, database.binding_key, CENTRALE)
        payments_db.execute(statement, {"venue": CENTRALE})
