-- Foundation: groups, venues, people, the menu catalogue, orders, settings and the audit trail.
--
-- Runs as the owner role (app_owner). The runtime role (app_runtime) owns nothing and
-- reaches venue data only through row-level security bound to the request's venue.

CREATE SCHEMA IF NOT EXISTS app;

-- The venue and user bound by the request gate, transaction-locally (set_config(..., true)).
-- Unset or empty means "nothing bound": policies then match no row.
CREATE FUNCTION app.current_venue_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
    AS $$ SELECT NULLIF(current_setting('app.venue_id', true), '')::uuid $$;

CREATE FUNCTION app.current_user_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
    AS $$ SELECT NULLIF(current_setting('app.user_id', true), '')::uuid $$;

CREATE TABLE venue_groups (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE venues (
    id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id    uuid NOT NULL REFERENCES venue_groups (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
    timezone    text NOT NULL DEFAULT 'Europe/Rome',
    currency    char(3) NOT NULL DEFAULT 'EUR',
    created_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, group_id)
);

CREATE TABLE users (
    id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    email              text NOT NULL CHECK (email = lower(email) AND length(email) <= 320),
    display_name       text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    is_platform_admin  boolean NOT NULL DEFAULT false,
    disabled_at        timestamptz,
    created_at         timestamptz NOT NULL DEFAULT now(),
    UNIQUE (email)
);

-- Who may act at which venue, with which role and permission flags (tenancy.Permission).
CREATE TABLE venue_attachments (
    venue_id     uuid NOT NULL REFERENCES venues (id),
    user_id      uuid NOT NULL REFERENCES users (id),
    role         text NOT NULL,
    permissions  bigint NOT NULL CHECK (permissions >= 0),
    created_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, user_id)
);
CREATE INDEX venue_attachments_user ON venue_attachments (user_id);

CREATE TABLE staff_members (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id      uuid NOT NULL REFERENCES venues (id),
    user_id       uuid REFERENCES users (id),
    display_name  text NOT NULL CHECK (length(display_name) BETWEEN 1 AND 200),
    role          text NOT NULL,
    created_at    timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, venue_id)
);

-- The brand's catalogue is shared by the venues of a group ...
CREATE TABLE menu_items (
    id           uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    group_id     uuid NOT NULL REFERENCES venue_groups (id),
    name         text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    description  text NOT NULL DEFAULT '',
    created_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, group_id)
);

-- ... but each venue sets its own prices. The composite keys make a price for an item of
-- another group impossible, whatever the application does.
CREATE TABLE menu_item_prices (
    venue_id     uuid NOT NULL,
    group_id     uuid NOT NULL,
    item_id      uuid NOT NULL,
    price_cents  integer NOT NULL CHECK (price_cents BETWEEN 0 AND 10000000),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, item_id),
    FOREIGN KEY (venue_id, group_id) REFERENCES venues (id, group_id),
    FOREIGN KEY (item_id, group_id) REFERENCES menu_items (id, group_id)
);

CREATE TABLE orders (
    id               uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id         uuid NOT NULL REFERENCES venues (id),
    number           integer NOT NULL CHECK (number > 0),
    status           text NOT NULL DEFAULT 'open'
                     CHECK (status IN ('open', 'preparing', 'ready', 'served', 'paid', 'cancelled')),
    channel          text NOT NULL DEFAULT 'till' CHECK (channel IN ('till', 'online')),
    table_label      text CHECK (length(table_label) <= 40),
    staff_member_id  uuid,
    total_cents      integer NOT NULL DEFAULT 0 CHECK (total_cents >= 0),
    created_at       timestamptz NOT NULL DEFAULT now(),
    UNIQUE (venue_id, number),
    UNIQUE (id, venue_id),
    FOREIGN KEY (staff_member_id, venue_id) REFERENCES staff_members (id, venue_id)
);
CREATE INDEX orders_queue ON orders (venue_id, created_at DESC);

CREATE TABLE order_items (
    id                uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    order_id          uuid NOT NULL,
    venue_id          uuid NOT NULL,
    item_id           uuid REFERENCES menu_items (id),
    name              text NOT NULL,
    quantity          integer NOT NULL CHECK (quantity > 0),
    unit_price_cents  integer NOT NULL CHECK (unit_price_cents >= 0),
    FOREIGN KEY (order_id, venue_id) REFERENCES orders (id, venue_id) ON DELETE CASCADE
);
CREATE INDEX order_items_order ON order_items (order_id);

CREATE TABLE venue_settings (
    venue_id               uuid PRIMARY KEY REFERENCES venues (id),
    require_mfa_for_admins boolean NOT NULL DEFAULT false,
    service_charge_bps     integer NOT NULL DEFAULT 0 CHECK (service_charge_bps BETWEEN 0 AND 5000),
    updated_at             timestamptz NOT NULL DEFAULT now()
);

-- Written in the mutation's own transaction; published after commit (DESIGN §8).
-- venue_id is NULL for platform-level events (sign-in lockouts, platform admin changes).
CREATE TABLE audit_outbox (
    id             uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id       uuid REFERENCES venues (id),
    actor_user_id  uuid REFERENCES users (id),
    action         text NOT NULL CHECK (action ~ '^[a-z_]+(\.[a-z_]+)+$'),
    target_type    text NOT NULL,
    target_id      text,
    details        jsonb NOT NULL DEFAULT '{}'::jsonb,
    critical       boolean NOT NULL DEFAULT false,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    published_at   timestamptz
);
CREATE INDEX audit_outbox_unpublished ON audit_outbox (occurred_at) WHERE published_at IS NULL;

-- Append-only and hash-chained per venue; see the triggers below.
CREATE TABLE audit_log (
    event_id     uuid PRIMARY KEY,
    venue_id     uuid REFERENCES venues (id),
    seq          bigint NOT NULL,
    prev_hash    bytea NOT NULL,
    hash         bytea NOT NULL,
    event        jsonb NOT NULL,
    recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX audit_log_chain ON audit_log (venue_id, seq) NULLS NOT DISTINCT;

CREATE FUNCTION app.reject_audit_log_change() RETURNS trigger
    LANGUAGE plpgsql SECURITY INVOKER
    AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$;

CREATE TRIGGER audit_log_no_update_delete
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION app.reject_audit_log_change();
CREATE TRIGGER audit_log_no_truncate
    BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION app.reject_audit_log_change();
-- ALWAYS: the triggers fire in session_replication_role = replica too.
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete;
ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_truncate;

-- Row-level security: every table with a venue_id, enabled and forced (tests/security lints it).
ALTER TABLE venue_attachments ENABLE ROW LEVEL SECURITY;
ALTER TABLE venue_attachments FORCE ROW LEVEL SECURITY;
-- A person may read their own attachments across venues (the venue switcher); everything
-- else is seen only through the bound venue.
CREATE POLICY venue_attachments_scope ON venue_attachments
    USING (venue_id = app.current_venue_id() OR user_id = app.current_user_id())
    WITH CHECK (venue_id = app.current_venue_id());

ALTER TABLE staff_members ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_members FORCE ROW LEVEL SECURITY;
CREATE POLICY staff_members_venue ON staff_members
    USING (venue_id = app.current_venue_id());

ALTER TABLE menu_item_prices ENABLE ROW LEVEL SECURITY;
ALTER TABLE menu_item_prices FORCE ROW LEVEL SECURITY;
CREATE POLICY menu_item_prices_venue ON menu_item_prices
    USING (venue_id = app.current_venue_id());

ALTER TABLE orders ENABLE ROW LEVEL SECURITY;
ALTER TABLE orders FORCE ROW LEVEL SECURITY;
CREATE POLICY orders_venue ON orders
    USING (venue_id = app.current_venue_id());

ALTER TABLE order_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE order_items FORCE ROW LEVEL SECURITY;
CREATE POLICY order_items_venue ON order_items
    USING (venue_id = app.current_venue_id());

ALTER TABLE venue_settings ENABLE ROW LEVEL SECURITY;
ALTER TABLE venue_settings FORCE ROW LEVEL SECURITY;
CREATE POLICY venue_settings_venue ON venue_settings
    USING (venue_id = app.current_venue_id());

ALTER TABLE audit_outbox ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_outbox FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_outbox_venue ON audit_outbox
    USING (venue_id IS NOT DISTINCT FROM app.current_venue_id());

ALTER TABLE audit_log ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_log FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_log_venue ON audit_log
    USING (venue_id IS NOT DISTINCT FROM app.current_venue_id());

-- The catalogue is group-level: a venue sees the items of its own group only.
ALTER TABLE menu_items ENABLE ROW LEVEL SECURITY;
ALTER TABLE menu_items FORCE ROW LEVEL SECURITY;
CREATE POLICY menu_items_group ON menu_items
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id()));

-- The runtime role: data access only, no ownership, no DDL.
GRANT USAGE ON SCHEMA public, app TO app_runtime;
GRANT EXECUTE ON FUNCTION app.current_venue_id(), app.current_user_id() TO app_runtime;
REVOKE EXECUTE ON FUNCTION app.reject_audit_log_change() FROM PUBLIC;
GRANT SELECT ON venue_groups, venues, users TO app_runtime;
GRANT SELECT ON venue_attachments TO app_runtime;
GRANT INSERT, UPDATE, DELETE ON venue_attachments TO app_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_members, orders, order_items TO app_runtime;
GRANT SELECT ON menu_items TO app_runtime;
GRANT SELECT, INSERT, UPDATE, DELETE ON menu_item_prices TO app_runtime;
GRANT SELECT, INSERT, UPDATE ON venue_settings TO app_runtime;
GRANT SELECT, INSERT ON audit_outbox TO app_runtime;
GRANT SELECT, INSERT ON audit_log TO app_runtime;
