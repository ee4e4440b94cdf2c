"""SQL of the payments area (as app_venue, under row-level security)."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row
from psycopg.types.json import Jsonb

from tenancy.order_book import PRICED_ITEMS

ACCOUNT = """
SELECT a.stripe_account_id, a.charges_enabled, a.payouts_enabled, a.details_submitted,
       a.updated_at
FROM payment_accounts a WHERE a.venue_id = %(venue)s
"""

INSERT_ACCOUNT = """
INSERT INTO payment_accounts (venue_id, stripe_account_id) VALUES (%(venue)s, %(account)s)
"""


def account(conn: psycopg.Connection, venue_id: uuid.UUID) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        conn.cursor(row_factory=dict_row).execute(ACCOUNT, {"venue": venue_id}).fetchone()
    )
    return found


def insert_account(conn: psycopg.Connection, venue_id: uuid.UUID, account_id: str) -> None:
    conn.execute(INSERT_ACCOUNT, {"venue": venue_id, "account": account_id})


# Everything a checkout reads, in one statement: the checkout this key already made, the
# venue's account and currency, whether a shift is open, and the requested items as this
# venue prices them (row-level security: the bound venue's catalogue and prices only).
CHECKOUT_CONTEXT = f"""
SELECT (SELECT row_to_json(c) FROM (
            SELECT c.id, c.status, c.payment_intent_id, c.stripe_account_id, c.amount_cents,
                   c.currency
            FROM checkouts c WHERE c.venue_id = %(venue)s AND c.idempotency_key = %(key)s) c)
           AS replay,
       (SELECT row_to_json(a) FROM (
            SELECT a.stripe_account_id, a.charges_enabled FROM payment_accounts a
            WHERE a.venue_id = %(venue)s) a) AS account,
       (SELECT v.currency FROM venues v WHERE v.id = %(venue)s) AS currency,
       EXISTS (SELECT 1 FROM shifts s WHERE s.venue_id = %(venue)s AND s.closed_at IS NULL)
           AS shift_open,
       {PRICED_ITEMS} AS priced
"""


def checkout_context(
    conn: psycopg.Connection, venue_id: uuid.UUID, key: str, item_ids: list[uuid.UUID]
) -> dict[str, Any]:
    row = (
        conn.cursor(row_factory=dict_row)
        .execute(CHECKOUT_CONTEXT, {"venue": venue_id, "key": key, "items": item_ids})
        .fetchone()
    )
    assert row is not None
    return row


INSERT_CHECKOUT = """
INSERT INTO checkouts (id, venue_id, idempotency_key, payment_intent_id, stripe_account_id,
                       amount_cents, currency, fee_cents, table_label, lines, created_by)
VALUES (%(id)s, %(venue)s, %(key)s, %(intent)s, %(account)s, %(amount)s, %(currency)s,
        %(fee)s, %(table)s, %(lines)s, %(user)s)
"""


def insert_checkout(conn: psycopg.Connection, **values: Any) -> None:
    conn.execute(INSERT_CHECKOUT, {**values, "lines": Jsonb(values["lines"])})


CHECKOUT_STATE = """
SELECT c.id AS checkout_id, c.status, c.amount_cents, c.currency, c.order_id,
       o.number AS order_number, c.created_at, c.updated_at
FROM checkouts c
LEFT JOIN orders o ON o.id = c.order_id AND o.venue_id = c.venue_id
WHERE c.venue_id = %(venue)s AND c.id = %(checkout)s
"""


def checkout_state(
    conn: psycopg.Connection, venue_id: uuid.UUID, checkout_id: uuid.UUID
) -> dict[str, Any] | None:
    found: dict[str, Any] | None = (
        conn.cursor(row_factory=dict_row)
        .execute(CHECKOUT_STATE, {"venue": venue_id, "checkout": checkout_id})
        .fetchone()
    )
    return found


# The order's payment and what its refunds have taken (pending ones count: Stripe may still
# pay them out), after a lock on the checkout, so two refunds of one order queue here; the
# refund this key already made; and the venue's alert threshold.
REFUND_CONTEXT = """
SELECT c.id AS checkout_id, c.status, c.payment_intent_id, c.stripe_account_id,
       c.amount_cents, c.currency,
       coalesce((SELECT sum(r.amount_cents) FROM refunds r
                 WHERE r.checkout_id = c.id AND r.status IN ('pending', 'succeeded')), 0)
           AS refunded_cents,
       (SELECT row_to_json(r) FROM (
            SELECT r.id, r.order_id, r.amount_cents, r.currency, r.status, r.created_at
            FROM refunds r WHERE r.venue_id = %(venue)s AND r.idempotency_key = %(key)s) r)
           AS replay,
       (SELECT s.refund_alert_threshold_cents FROM venue_settings s
        WHERE s.venue_id = %(venue)s) AS threshold_cents
FROM checkouts c
WHERE c.venue_id = %(venue)s AND c.order_id = %(order)s
"""


def refund_context(
    conn: psycopg.Connection, venue_id: uuid.UUID, order_id: uuid.UUID, key: str
) -> dict[str, Any] | None:
    conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended('refund:' || %s::text, 0))",
        (order_id,),
    )
    found: dict[str, Any] | None = (
        conn.cursor(row_factory=dict_row)
        .execute(REFUND_CONTEXT, {"venue": venue_id, "order": order_id, "key": key})
        .fetchone()
    )
    return found


ORDER_EXISTS = "SELECT 1 FROM orders o WHERE o.venue_id = %(venue)s AND o.id = %(order)s"


def order_exists(conn: psycopg.Connection, venue_id: uuid.UUID, order_id: uuid.UUID) -> bool:
    return conn.execute(ORDER_EXISTS, {"venue": venue_id, "order": order_id}).fetchone() is not None


INSERT_REFUND = """
INSERT INTO refunds (id, venue_id, checkout_id, order_id, amount_cents, currency,
                     stripe_refund_id, idempotency_key, reason, requested_by)
VALUES (%(id)s, %(venue)s, %(checkout)s, %(order)s, %(amount)s, %(currency)s, %(stripe)s,
        %(key)s, %(reason)s, %(user)s)
RETURNING created_at
"""


def insert_refund(conn: psycopg.Connection, **values: Any) -> Any:
    row = conn.execute(INSERT_REFUND, values).fetchone()
    assert row is not None
    return row[0]
