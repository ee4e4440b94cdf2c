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

-- --- tax invoices ---------------------------------------------------------------------------
--
-- Write flags:
--   invoices                insert: an invoice TAKE_ORDERS 2 (closing an order issues it),
--                           a credit note REFUND 512; never updated nor deleted
--   invoice_counters        TAKE_ORDERS 2 or REFUND 512

-- The seller's tax details, printed on every invoice (a snapshot is kept on the invoice), and
-- the VAT rate of items that name none; a catalogue item may name its own.
ALTER TABLE venue_settings
    ADD COLUMN legal_name text CHECK (length(legal_name) BETWEEN 1 AND 200),
    ADD COLUMN vat_number text CHECK (vat_number ~ '^[A-Z0-9]{2,20}$'),
    ADD COLUMN tax_address text CHECK (length(tax_address) BETWEEN 1 AND 500),
    ADD COLUMN default_vat_rate_bps integer NOT NULL DEFAULT 1000
        CHECK (default_vat_rate_bps BETWEEN 0 AND 10000);
ALTER TABLE menu_items
    ADD COLUMN vat_rate_bps integer CHECK (vat_rate_bps BETWEEN 0 AND 10000);

-- Per venue, per kind, per fiscal year (the venue's calendar year): locked and advanced in the
-- issuing transaction, so concurrent issues neither skip nor reuse a number.
CREATE TABLE invoice_counters (
    venue_id     uuid NOT NULL REFERENCES venues (id),
    kind         text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    fiscal_year  integer NOT NULL CHECK (fiscal_year BETWEEN 2000 AND 2999),
    last_number  integer NOT NULL DEFAULT 0 CHECK (last_number >= 0),
    PRIMARY KEY (venue_id, kind, fiscal_year)
);

CREATE TABLE invoices (
    id                   uuid PRIMARY KEY,
    venue_id             uuid NOT NULL REFERENCES venues (id),
    kind                 text NOT NULL CHECK (kind IN ('invoice', 'credit_note')),
    fiscal_year          integer NOT NULL,
    number               integer NOT NULL CHECK (number > 0),
    order_id             uuid NOT NULL,
    -- A credit note corrects one invoice, in full.
    corrects_invoice_id  uuid,
    issued_at            timestamptz NOT NULL DEFAULT now(),
    seller               jsonb NOT NULL,
    currency             char(3) NOT NULL,
    -- Amounts are signed: a credit note's are negative.
    net_cents            integer NOT NULL,
    vat_cents            integer NOT NULL,
    gross_cents          integer NOT NULL CHECK (gross_cents = net_cents + vat_cents),
    vat_lines            jsonb NOT NULL,
    reason               text CHECK (length(reason) BETWEEN 1 AND 500),
    UNIQUE (venue_id, kind, fiscal_year, number),
    UNIQUE (id, venue_id),
    FOREIGN KEY (order_id, venue_id) REFERENCES orders (id, venue_id),
    FOREIGN KEY (corrects_invoice_id, venue_id) REFERENCES invoices (id, venue_id),
    CHECK ((kind = 'credit_note') = (corrects_invoice_id IS NOT NULL)),
    CHECK ((kind = 'credit_note') = (reason IS NOT NULL))
);
-- One invoice per order, one credit note per invoice.
CREATE UNIQUE INDEX invoices_one_per_order ON invoices (order_id) WHERE kind = 'invoice';
CREATE UNIQUE INDEX invoices_one_credit_note ON invoices (corrects_invoice_id)
    WHERE kind = 'credit_note';
CREATE INDEX invoices_by_venue ON invoices (venue_id, issued_at DESC, id);

ALTER TABLE invoice_counters ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoice_counters FORCE ROW LEVEL SECURITY;
CREATE POLICY invoice_counters_read ON invoice_counters FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY invoice_counters_insert ON invoice_counters FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id()
                AND ((SELECT app.binding_allows(2)) OR (SELECT app.binding_allows(512))));
CREATE POLICY invoice_counters_update ON invoice_counters FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id()
           AND ((SELECT app.binding_allows(2)) OR (SELECT app.binding_allows(512))))
    WITH CHECK (venue_id = app.current_venue_id()
                AND ((SELECT app.binding_allows(2)) OR (SELECT app.binding_allows(512))));

ALTER TABLE invoices ENABLE ROW LEVEL SECURITY;
ALTER TABLE invoices FORCE ROW LEVEL SECURITY;
CREATE POLICY invoices_read ON invoices FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY invoices_insert ON invoices FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id()
                AND CASE WHEN kind = 'invoice' THEN (SELECT app.binding_allows(2))
                         ELSE (SELECT app.binding_allows(512)) END);

GRANT SELECT, INSERT, UPDATE ON invoice_counters TO app_venue;
-- No UPDATE, no DELETE: an invoice is never edited; a correction is a credit note.
GRANT SELECT, INSERT ON invoices TO app_venue;
