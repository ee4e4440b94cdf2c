-- The order service: orders taken at tills move through one state machine, numbered per
-- venue without gaps, and a till's retry after a timeout never creates a second order.
--
-- Write flags (values of tenancy.Permission; tests/security/test_row_level_security.py keeps
-- them equal):
--   order_counters          TAKE_ORDERS 2

-- --- the status vocabulary ------------------------------------------------------------------

-- placed -> preparing -> ready -> served -> closed, or cancelled (functions/orders/states.py).
-- Existing rows: 'open' was an order taken and not yet started, now 'placed'; 'paid' was an
-- order settled and done, now 'closed' (no invoice is issued for them: they predate invoicing).
ALTER TABLE orders DROP CONSTRAINT orders_status_check;
UPDATE orders SET status = CASE status WHEN 'open' THEN 'placed' ELSE 'closed' END
WHERE status IN ('open', 'paid');
ALTER TABLE orders
    ALTER COLUMN status SET DEFAULT 'placed',
    ADD CONSTRAINT orders_status_check
        CHECK (status IN ('placed', 'preparing', 'ready', 'served', 'closed', 'cancelled')),
    -- The till's key for one order: the same key at the same venue is the same order.
    ADD COLUMN idempotency_key text CHECK (length(idempotency_key) BETWEEN 8 AND 100),
    ADD COLUMN cancel_reason text CHECK (length(cancel_reason) BETWEEN 1 AND 500),
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT orders_idempotency UNIQUE (venue_id, idempotency_key),
    -- Cancelled through the state machine always with a reason; older cancellations had none.
    ADD CONSTRAINT orders_cancel_reason CHECK (cancel_reason IS NULL OR status = 'cancelled');
-- The queue by status, newest first (keyset pages on the number).
CREATE INDEX orders_queue_by_status ON orders (venue_id, status, number DESC);

-- --- order numbers --------------------------------------------------------------------------

-- One row per venue, locked by each order's creation and advanced in its transaction: a
-- rolled-back creation takes no number, so the numbers have no gaps.
CREATE TABLE order_counters (
    venue_id     uuid PRIMARY KEY REFERENCES venues (id),
    last_number  integer NOT NULL DEFAULT 0 CHECK (last_number >= 0)
);
INSERT INTO order_counters (venue_id, last_number)
SELECT v.id, coalesce((SELECT max(o.number) FROM orders o WHERE o.venue_id = v.id), 0)
FROM venues v;

ALTER TABLE order_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY order_counters_read ON order_counters FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY order_counters_insert ON order_counters FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY order_counters_update ON order_counters FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

GRANT SELECT, INSERT, UPDATE ON order_counters TO app_venue;
