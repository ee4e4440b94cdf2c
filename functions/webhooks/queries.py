"""SQL of the webhook processor (as app_payments: the events themselves, and venue rows
through row-level security with the venue it has bound)."""

STORED_EVENT = """
SELECT e.id, e.endpoint, e.type, e.account, e.status, e.body
FROM stripe_events e WHERE e.id = %(id)s
"""

LOCK_EVENT = "SELECT e.status FROM stripe_events e WHERE e.id = %(id)s FOR UPDATE"

SETTLE_EVENT = """
UPDATE stripe_events
SET status = %(status)s, processed_at = now(), attempts = attempts + 1, last_error = NULL
WHERE id = %(id)s
"""

FAIL_EVENT = """
UPDATE stripe_events
SET status = 'failed', processed_at = NULL, attempts = attempts + 1, last_error = %(error)s
WHERE id = %(id)s AND status NOT IN ('processed', 'ignored')
"""

LIST_EVENTS = """
SELECT e.id, e.type, e.account, e.status, e.attempts, e.received_at, e.processed_at,
       e.last_error
FROM stripe_events e
WHERE (%(status)s::text IS NULL OR e.status = %(status)s)
ORDER BY e.received_at DESC, e.id
LIMIT %(limit)s
"""

# The draft a PaymentIntent pays, locked: duplicates and out-of-order events of one payment
# queue here, and each sees what the previous one committed.
LOCK_CHECKOUT = """
SELECT c.id, c.status, c.payment_intent_id, c.stripe_account_id, c.amount_cents, c.currency,
       c.table_label, c.lines, c.order_id,
       (SELECT a.stripe_account_id FROM payment_accounts a WHERE a.venue_id = c.venue_id)
           AS venue_account
FROM checkouts c
WHERE c.venue_id = %(venue)s AND (c.id = %(checkout)s OR c.payment_intent_id = %(intent)s)
ORDER BY c.id = %(checkout)s DESC
LIMIT 1
FOR UPDATE OF c
"""

MARK_CHECKOUT = """
UPDATE checkouts SET status = %(status)s, updated_at = now()
WHERE id = %(checkout)s AND venue_id = %(venue)s
"""

# The order joins the venue's queue: placed, online, at the open shift if there is one, its
# lines as the checkout priced them; the checkout names it.
PLACE_ORDER = """
WITH counter AS (
    UPDATE order_counters SET last_number = %(number)s WHERE venue_id = %(venue)s
), placed AS (
    INSERT INTO orders (id, venue_id, number, status, channel, table_label, total_cents,
                        created_at, updated_at, shift_id, idempotency_key)
    VALUES (%(order)s, %(venue)s, %(number)s, 'placed', 'online', %(table)s, %(total)s,
            now(), now(),
            (SELECT s.id FROM shifts s WHERE s.venue_id = %(venue)s AND s.closed_at IS NULL),
            'checkout:' || %(checkout)s::text)
), lines AS (
    INSERT INTO order_items (order_id, venue_id, item_id, name, quantity, unit_price_cents)
    SELECT %(order)s, %(venue)s, line.item_id, line.name, line.quantity, line.unit_price_cents
    FROM jsonb_to_recordset(%(lines)s::jsonb)
        AS line(item_id uuid, name text, quantity integer, unit_price_cents integer)
)
UPDATE checkouts SET status = 'placed', order_id = %(order)s, updated_at = now()
WHERE id = %(checkout)s AND venue_id = %(venue)s
"""

SETTLE_REFUND = """
UPDATE refunds SET status = %(status)s, updated_at = now()
WHERE venue_id = %(venue)s AND (id = %(refund)s OR stripe_refund_id = %(stripe)s)
  AND status <> %(status)s AND (status = 'pending' OR %(status)s = 'failed')
RETURNING id, order_id, amount_cents, currency
"""

UPDATE_ACCOUNT = """
UPDATE payment_accounts
SET charges_enabled = %(charges)s, payouts_enabled = %(payouts)s,
    details_submitted = %(submitted)s, updated_at = now()
WHERE venue_id = %(venue)s AND stripe_account_id = %(account)s
  AND (charges_enabled, payouts_enabled, details_submitted)
      IS DISTINCT FROM (%(charges)s, %(payouts)s, %(submitted)s)
RETURNING venue_id
"""
