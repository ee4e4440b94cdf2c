-- Payments through Stripe Connect Express: each venue's connected account, the checkouts
-- (online order drafts waiting for Stripe's word), refunds, and the raw webhook events.
--
-- Two roles of their own (created by infra/migrate.py):
--   app_webhook   the webhook ingress: inserts a verified event into stripe_events, nothing
--                 else (no read, not even of what it wrote).
--   app_payments  the webhook processor and `make payments-replay`: reads and settles the
--                 stored events; reaches venue rows only through forced row-level security,
--                 with the venue it has bound signed like the gate's bindings as the service
--                 session 'service:payments' (app.binding_allows below), honoured for this
--                 login role only.
--
-- Write flags of app_venue (values of tenancy.Permission; tests/security keeps them equal):
--   payment_accounts   insert MANAGE_PAYMENTS 4096
--   checkouts          insert TAKE_ORDERS 2
--   refunds            insert REFUND 512

-- --- the verifier learns the service binding ------------------------------------------------
-- The newest definition (0013_people_verifier.sql), with one branch added after the
-- signature and expiry checks.
CREATE OR REPLACE FUNCTION app.binding_allows(required bigint) RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = pg_catalog, pg_temp
    AS $$
DECLARE
    v_venue     text := coalesce(current_setting('app.venue_id', true), '');
    v_user      text := coalesce(current_setting('app.user_id', true), '');
    v_session   text := coalesce(current_setting('app.session_id', true), '');
    v_mfa       text := coalesce(current_setting('app.mfa', true), '');
    v_parts     text[] := string_to_array(current_setting('app.binding', true), '.');
    v_key       record;
    v_standing  record;
BEGIN
    -- The signature first: once it holds, every value was set by the gate, well formed.
    SELECT k.inner_pad, k.outer_pad INTO v_key FROM app.binding_keys k WHERE k.id = v_parts[1];
    IF NOT FOUND OR cardinality(v_parts) <> 3 OR v_parts[3] <> encode(sha256(
           v_key.outer_pad || sha256(v_key.inner_pad || convert_to(
               v_venue || '|' || v_user || '|' || v_session || '|' || v_mfa || '|' || v_parts[2],
               'UTF8'))), 'hex') THEN
        RETURN false;
    END IF;
    IF v_parts[2]::bigint <= extract(epoch FROM now()) THEN
        RETURN false;
    END IF;

    -- The payments processor (a trusted consumer, no person): a venue that exists, on its own
    -- login role only; what it may touch is what app_payments' own policies let through.
    IF v_session = 'service:payments' THEN
        RETURN v_user = '' AND session_user = 'app_payments'
           AND required IS NOT NULL AND required >= 0
           AND EXISTS (SELECT 1 FROM public.venues v WHERE v.id = NULLIF(v_venue, '')::uuid);
    END IF;

    IF v_user = '' THEN
        SELECT m.role,
               coalesce(r.permissions, 0)
                   & CASE WHEN m.user_id IS NULL THEN ~0::bigint ELSE a.permissions END
                   AS permissions,
               coalesce(st.require_mfa_for_admins, false) AS venue_requires_mfa
        INTO v_standing
        FROM public.till_sessions t
        JOIN public.staff_members m ON m.id = t.staff_member_id AND m.venue_id = t.venue_id
        JOIN public.till_device_venues d ON d.client_id = t.client_id AND d.venue_id = t.venue_id
        JOIN public.oauth_clients c ON c.client_id = t.client_id AND c.disabled_at IS NULL
        LEFT JOIN public.role_permissions r ON r.role = m.role
        LEFT JOIN public.users u ON u.id = m.user_id
        LEFT JOIN public.venue_attachments a ON a.venue_id = t.venue_id AND a.user_id = m.user_id
        LEFT JOIN public.venue_settings st ON st.venue_id = t.venue_id
        WHERE t.id = v_session::uuid AND t.venue_id = NULLIF(v_venue, '')::uuid
          AND t.ended_at IS NULL AND t.expires_at > now()
          AND t.last_seen_at + make_interval(secs => t.idle_seconds) > now()
          AND (m.user_id IS NULL OR (u.disabled_at IS NULL AND a.user_id IS NOT NULL))
          AND m.deactivated_at IS NULL;
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        IF required IS NULL THEN
            RETURN true;
        END IF;
        IF required < 0 THEN
            RETURN false;  -- the platform area (-1) is no till's; other values reserved
        END IF;
        RETURN v_standing.permissions & required = required
           AND NOT (v_standing.venue_requires_mfa
                    AND v_standing.role IN ('owner', 'regional_manager', 'manager'));
    END IF;

    SELECT u.is_platform_admin, a.role, a.permissions,
           coalesce(st.require_mfa_for_admins, false) AS venue_requires_mfa,
           EXISTS (SELECT 1 FROM public.venues v WHERE v.id = NULLIF(v_venue, '')::uuid)
               AS venue_exists
    INTO v_standing
    FROM public.users u
    JOIN public.auth_sessions s ON s.user_id = u.id
    LEFT JOIN public.venue_attachments a
           ON a.venue_id = NULLIF(v_venue, '')::uuid AND a.user_id = u.id
    LEFT JOIN public.venue_settings st ON st.venue_id = a.venue_id
    WHERE u.id = v_user::uuid AND u.disabled_at IS NULL
      AND s.id = v_session::uuid AND s.revoked_at IS NULL AND s.expires_at > now();
    IF NOT FOUND THEN
        RETURN false;
    END IF;
    IF required IS NULL THEN
        RETURN true;
    END IF;
    IF required = -1 THEN
        -- The platform area: a platform admin who signed in with a second factor.
        RETURN v_standing.is_platform_admin AND v_mfa = '1';
    END IF;
    IF required < 0 THEN
        RETURN false;  -- reserved
    END IF;
    IF v_standing.role IS NOT NULL THEN
        RETURN v_standing.permissions & required = required
           AND NOT (v_standing.venue_requires_mfa AND v_mfa <> '1'
                    AND v_standing.role IN ('owner', 'regional_manager', 'manager'));
    END IF;
    RETURN v_standing.is_platform_admin AND v_mfa = '1' AND v_standing.venue_exists;
END
$$;

GRANT USAGE ON SCHEMA public, app TO app_webhook, app_payments;
GRANT EXECUTE ON FUNCTION app.binding_allows(bigint) TO app_payments;
GRANT EXECUTE ON FUNCTION app.current_venue_id() TO app_payments;

-- --- the raw events -----------------------------------------------------------------------
-- Not venue-scoped: an event is Stripe's, stored before anyone knows which venue (if any) it
-- concerns. Keyed by Stripe's event id: a redelivery is the same row (ON CONFLICT DO NOTHING).
CREATE TABLE stripe_events (
    id              text PRIMARY KEY CHECK (id ~ '^evt_[A-Za-z0-9_]{1,250}$'),
    -- Which endpoint (and so which signing secret) it came through.
    endpoint        text NOT NULL CHECK (endpoint IN ('platform', 'connect')),
    type            text NOT NULL CHECK (length(type) BETWEEN 1 AND 200),
    -- The connected account of a Connect event; NULL on the platform's own.
    account         text CHECK (account ~ '^acct_[A-Za-z0-9_]{1,250}$'),
    livemode        boolean NOT NULL,
    stripe_created  timestamptz NOT NULL,
    -- The body exactly as Stripe signed it.
    body            text NOT NULL CHECK (octet_length(body) <= 262144),
    received_at     timestamptz NOT NULL DEFAULT now(),
    status          text NOT NULL DEFAULT 'received'
                    CHECK (status IN ('received', 'processed', 'ignored', 'failed')),
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    processed_at    timestamptz,
    -- Why the last attempt failed (an error class and message, never a secret).
    last_error      text CHECK (length(last_error) <= 1000),
    CHECK ((status IN ('processed', 'ignored')) = (processed_at IS NOT NULL))
);
CREATE INDEX stripe_events_by_status ON stripe_events (status, received_at);

ALTER TABLE stripe_events ENABLE ROW LEVEL SECURITY;
ALTER TABLE stripe_events FORCE ROW LEVEL SECURITY;
CREATE POLICY stripe_events_ingress ON stripe_events FOR INSERT TO app_webhook
    WITH CHECK (status = 'received' AND attempts = 0 AND processed_at IS NULL
                AND last_error IS NULL);
CREATE POLICY stripe_events_processor ON stripe_events FOR ALL TO app_payments
    USING (true) WITH CHECK (true);

GRANT INSERT (id, endpoint, type, account, livemode, stripe_created, body)
    ON stripe_events TO app_webhook;
GRANT SELECT, UPDATE (status, attempts, processed_at, last_error) ON stripe_events
    TO app_payments;

-- --- each venue's connected account -------------------------------------------------------
CREATE TABLE payment_accounts (
    venue_id           uuid PRIMARY KEY REFERENCES venues (id),
    stripe_account_id  text NOT NULL UNIQUE CHECK (stripe_account_id ~ '^acct_[A-Za-z0-9_]+$'),
    charges_enabled    boolean NOT NULL DEFAULT false,
    payouts_enabled    boolean NOT NULL DEFAULT false,
    details_submitted  boolean NOT NULL DEFAULT false,
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now()
);

ALTER TABLE payment_accounts ENABLE ROW LEVEL SECURITY;
ALTER TABLE payment_accounts FORCE ROW LEVEL SECURITY;
CREATE POLICY payment_accounts_read ON payment_accounts FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY payment_accounts_insert ON payment_accounts FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4096)));
CREATE POLICY payment_accounts_processor_read ON payment_accounts FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY payment_accounts_processor_update ON payment_accounts FOR UPDATE TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));

GRANT SELECT, INSERT (venue_id, stripe_account_id) ON payment_accounts TO app_venue;
GRANT SELECT, UPDATE (charges_enabled, payouts_enabled, details_submitted, updated_at)
    ON payment_accounts TO app_payments;

-- --- checkouts: the online order drafts -----------------------------------------------------
-- A checkout is an order waiting for Stripe: it is in no queue, has no number and no
-- invoice. The processor places it (an orders row, channel 'online') only when Stripe's
-- signed webhook and a fresh read of the PaymentIntent agree it was paid, for the amount,
-- currency and connected account recorded here.
CREATE TABLE checkouts (
    id                 uuid PRIMARY KEY,
    venue_id           uuid NOT NULL REFERENCES venues (id),
    status             text NOT NULL DEFAULT 'awaiting_payment'
                       CHECK (status IN ('awaiting_payment', 'payment_failed', 'placed',
                                         'mismatch')),
    idempotency_key    text NOT NULL CHECK (length(idempotency_key) BETWEEN 8 AND 100),
    payment_intent_id  text NOT NULL UNIQUE CHECK (payment_intent_id ~ '^pi_[A-Za-z0-9_]+$'),
    stripe_account_id  text NOT NULL,
    amount_cents       integer NOT NULL CHECK (amount_cents > 0),
    currency           char(3) NOT NULL,
    fee_cents          integer NOT NULL CHECK (fee_cents >= 0 AND fee_cents <= amount_cents),
    table_label        text CHECK (length(table_label) BETWEEN 1 AND 40),
    -- The priced lines: [{item_id, name, quantity, unit_price_cents}], server-side prices.
    lines              jsonb NOT NULL,
    order_id           uuid,
    created_by         uuid REFERENCES users (id),
    created_at         timestamptz NOT NULL DEFAULT now(),
    updated_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (venue_id, idempotency_key),
    UNIQUE (id, venue_id),
    FOREIGN KEY (order_id, venue_id) REFERENCES orders (id, venue_id),
    CHECK ((status = 'placed') = (order_id IS NOT NULL))
);
CREATE INDEX checkouts_by_venue ON checkouts (venue_id, created_at DESC);

ALTER TABLE checkouts ENABLE ROW LEVEL SECURITY;
ALTER TABLE checkouts FORCE ROW LEVEL SECURITY;
CREATE POLICY checkouts_read ON checkouts FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY checkouts_insert ON checkouts FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2))
                AND status = 'awaiting_payment' AND order_id IS NULL);
CREATE POLICY checkouts_processor_read ON checkouts FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY checkouts_processor_update ON checkouts FOR UPDATE TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));

GRANT SELECT,
      INSERT (id, venue_id, idempotency_key, payment_intent_id, stripe_account_id,
              amount_cents, currency, fee_cents, table_label, lines, created_by)
    ON checkouts TO app_venue;
GRANT SELECT, UPDATE (status, order_id, updated_at) ON checkouts TO app_payments;

-- --- refunds ---------------------------------------------------------------------------
-- Asked for by someone with REFUND (pending); their outcome is Stripe's, confirmed by the
-- webhook (charge.refunded / refund.updated) and a fresh read of the refund.
CREATE TABLE refunds (
    id                uuid PRIMARY KEY,
    venue_id          uuid NOT NULL REFERENCES venues (id),
    checkout_id       uuid NOT NULL,
    order_id          uuid NOT NULL,
    amount_cents      integer NOT NULL CHECK (amount_cents > 0),
    currency          char(3) NOT NULL,
    status            text NOT NULL DEFAULT 'pending'
                      CHECK (status IN ('pending', 'succeeded', 'failed', 'canceled')),
    stripe_refund_id  text UNIQUE CHECK (stripe_refund_id ~ '^re_[A-Za-z0-9_]+$'),
    idempotency_key   text NOT NULL CHECK (length(idempotency_key) BETWEEN 8 AND 100),
    reason            text CHECK (length(reason) BETWEEN 1 AND 500),
    requested_by      uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (venue_id, idempotency_key),
    FOREIGN KEY (checkout_id, venue_id) REFERENCES checkouts (id, venue_id),
    FOREIGN KEY (order_id, venue_id) REFERENCES orders (id, venue_id)
);
CREATE INDEX refunds_by_checkout ON refunds (checkout_id);

ALTER TABLE refunds ENABLE ROW LEVEL SECURITY;
ALTER TABLE refunds FORCE ROW LEVEL SECURITY;
CREATE POLICY refunds_read ON refunds FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY refunds_insert ON refunds FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(512))
                AND status = 'pending');
CREATE POLICY refunds_processor_read ON refunds FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY refunds_processor_update ON refunds FOR UPDATE TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));

GRANT SELECT,
      INSERT (id, venue_id, checkout_id, order_id, amount_cents, currency, stripe_refund_id,
              idempotency_key, reason, requested_by)
    ON refunds TO app_venue;
GRANT SELECT, UPDATE (status, updated_at) ON refunds TO app_payments;

-- --- what the processor writes when it places an order -------------------------------------
CREATE POLICY orders_processor_read ON orders FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY orders_processor_insert ON orders FOR INSERT TO app_payments
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0))
                AND channel = 'online' AND status = 'placed');
CREATE POLICY order_items_processor_insert ON order_items FOR INSERT TO app_payments
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY order_counters_processor_read ON order_counters FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY order_counters_processor_insert ON order_counters FOR INSERT TO app_payments
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY order_counters_processor_update ON order_counters FOR UPDATE TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY shifts_processor_read ON shifts FOR SELECT TO app_payments
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
-- A venue's events with its binding; platform-level ones (an operator's replay of a stored
-- event, which may concern no venue) without. Never in a person's name.
CREATE POLICY audit_outbox_processor_insert ON audit_outbox FOR INSERT TO app_payments
    WITH CHECK (actor_user_id IS NULL
                AND (venue_id IS NULL
                     OR (venue_id = app.current_venue_id()
                         AND (SELECT app.binding_allows(0)))));

GRANT SELECT (id, venue_id, number), INSERT (id, venue_id, number, status, channel,
              table_label, total_cents, created_at, updated_at, shift_id, idempotency_key)
    ON orders TO app_payments;
GRANT INSERT (order_id, venue_id, item_id, name, quantity, unit_price_cents)
    ON order_items TO app_payments;
GRANT SELECT, INSERT, UPDATE ON order_counters TO app_payments;
GRANT SELECT (id, venue_id, closed_at) ON shifts TO app_payments;
GRANT INSERT ON audit_outbox TO app_payments;
