-- Database roles by duty, sessions the gate can see, and bindings an injected statement
-- cannot forge.
--
-- Roles (created by infra/migrate.py before this file runs):
--   app_owner       owns the schema; migrations only.
--   app_venue       the venue and account functions: venue data through row-level security,
--                   no credentials at all.
--   app_issuer      the issuer's functions (functions/auth): credentials, codes, sessions.
--   app_audit       the audit consumer: the only role that may INSERT into audit_log.
--   app_gatekeeper  NOLOGIN; owns app.binding_allows(), the one SECURITY DEFINER function,
--                   and reads only what that function checks.
--
-- The request gate binds four settings transaction-locally: app.venue_id, app.user_id,
-- app.session_id and app.mfa, plus app.binding = '<key id>.<expiry epoch>.<hex HMAC>', the
-- HMAC-SHA256 of 'venue|user|session|mfa|expiry' under a key that only app_gatekeeper can
-- read. Every venue-scoped policy asks app.binding_allows(), once per statement (an
-- uncorrelated sub-select, planned as an InitPlan), so a statement that sets the settings
-- by itself sees no rows and writes none.

-- --- sessions -------------------------------------------------------------------------------

-- One sign-in: its refresh tokens are one family, its access tokens carry its id as `sid`.
CREATE TABLE auth_sessions (
    id          uuid PRIMARY KEY,
    user_id     uuid NOT NULL REFERENCES users (id),
    client_id   text NOT NULL REFERENCES oauth_clients (client_id),
    amr         text[] NOT NULL,
    acr         text NOT NULL,
    auth_time   timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    revoked_at  timestamptz,
    created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX auth_sessions_user ON auth_sessions (user_id) WHERE revoked_at IS NULL;

-- Families issued before sessions existed become sessions of their own.
INSERT INTO auth_sessions (id, user_id, client_id, amr, acr, auth_time, expires_at, revoked_at)
SELECT DISTINCT ON (family_id)
       family_id, user_id, client_id, '{pwd}', 'urn:venue:loa:1', created_at,
       created_at + interval '30 days', revoked_at
FROM refresh_tokens
ORDER BY family_id, created_at;

ALTER TABLE refresh_tokens
    ADD CONSTRAINT refresh_tokens_session FOREIGN KEY (family_id) REFERENCES auth_sessions (id);

-- --- the binding key and its verifier -------------------------------------------------------

-- HMAC-SHA256 keys, stored as the two padded keys of RFC 2104 (key XOR ipad, key XOR opad),
-- so the verifier needs nothing beyond the built-in sha256(). Written by infra/migrate.py.
CREATE TABLE app.binding_keys (
    id          text PRIMARY KEY CHECK (id ~ '^[a-z0-9]{1,16}$'),
    inner_pad   bytea NOT NULL CHECK (length(inner_pad) = 64),
    outer_pad   bytea NOT NULL CHECK (length(outer_pad) = 64),
    created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION app.current_session_id() RETURNS uuid
    LANGUAGE sql STABLE PARALLEL SAFE SECURITY INVOKER
    AS $$ SELECT NULLIF(current_setting('app.session_id', true), '')::uuid $$;

-- Whether the request's bindings are genuine and allow what is asked:
--   required IS NULL  the bound user is real: valid HMAC, not expired, account enabled,
--                     session live (the venue, if any, is not looked at);
--   required >= 0     and the bound venue is theirs: attached with every flag in `required`
--                     (and, where the venue requires MFA of elevated roles, a second factor
--                     in this session), or a platform admin who signed in with one.
CREATE FUNCTION app.binding_allows(required bigint) RETURNS boolean
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
    IF v_standing.role IS NOT NULL THEN
        RETURN v_standing.permissions & required = required
           AND NOT (v_standing.venue_requires_mfa AND v_mfa <> '1'
                    AND v_standing.role IN ('owner', 'regional_manager', 'manager'));
    END IF;
    RETURN v_standing.is_platform_admin AND v_mfa = '1' AND v_standing.venue_exists;
END
$$;

ALTER TABLE app.binding_keys OWNER TO app_owner;
GRANT USAGE ON SCHEMA app TO app_gatekeeper;
GRANT SELECT ON app.binding_keys TO app_gatekeeper;
GRANT SELECT (id, is_platform_admin, disabled_at) ON users TO app_gatekeeper;
GRANT SELECT (id, user_id, expires_at, revoked_at) ON auth_sessions TO app_gatekeeper;
GRANT SELECT (venue_id, user_id, role, permissions) ON venue_attachments TO app_gatekeeper;
GRANT SELECT (venue_id, require_mfa_for_admins) ON venue_settings TO app_gatekeeper;
GRANT SELECT (id) ON venues TO app_gatekeeper;
GRANT CREATE ON SCHEMA app TO app_gatekeeper;  -- needed to receive ownership, then taken back
ALTER FUNCTION app.binding_allows(bigint) OWNER TO app_gatekeeper;
REVOKE CREATE ON SCHEMA app FROM app_gatekeeper;
REVOKE EXECUTE ON FUNCTION app.binding_allows(bigint) FROM PUBLIC;

-- --- row-level security, again: every policy names its roles ---------------------------------

DROP POLICY venue_attachments_scope ON venue_attachments;
DROP POLICY staff_members_venue ON staff_members;
DROP POLICY menu_item_prices_venue ON menu_item_prices;
DROP POLICY orders_venue ON orders;
DROP POLICY order_items_venue ON order_items;
DROP POLICY venue_settings_venue ON venue_settings;
DROP POLICY audit_outbox_venue ON audit_outbox;
DROP POLICY audit_log_venue ON audit_log;
DROP POLICY menu_items_group ON menu_items;
DROP POLICY till_device_venues_venue ON till_device_venues;

-- Writes have a policy per command (not FOR ALL, which would also apply to reads and put a
-- second verifier call in every SELECT). The flag a write needs, per table (values of tenancy.Permission; a test keeps them equal):
--   venue_attachments, staff_members, till_device_venues  MANAGE_STAFF    16
--   menu_item_prices                                      EDIT_PRICES      8
--   orders, order_items                                   TAKE_ORDERS      2
--   venue_settings                                        MANAGE_SETTINGS 1024

-- A person reads their own attachments across venues (the venue switcher, the gate); the
-- rest of a venue's attachments only through that venue.
CREATE POLICY venue_attachments_read ON venue_attachments FOR SELECT TO app_venue
    USING ((venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)))
           OR (user_id = app.current_user_id() AND (SELECT app.binding_allows(NULL))));
CREATE POLICY venue_attachments_insert ON venue_attachments FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY venue_attachments_update ON venue_attachments FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY venue_attachments_delete ON venue_attachments FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));

CREATE POLICY staff_members_read ON staff_members FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY staff_members_insert ON staff_members FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY staff_members_update ON staff_members FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY staff_members_delete ON staff_members FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));

CREATE POLICY till_device_venues_read ON till_device_venues FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY till_device_venues_insert ON till_device_venues FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY till_device_venues_update ON till_device_venues FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY till_device_venues_delete ON till_device_venues FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));

CREATE POLICY menu_item_prices_read ON menu_item_prices FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY menu_item_prices_insert ON menu_item_prices FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(8)));
CREATE POLICY menu_item_prices_update ON menu_item_prices FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(8)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(8)));
CREATE POLICY menu_item_prices_delete ON menu_item_prices FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(8)));

CREATE POLICY orders_read ON orders FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY orders_insert ON orders FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY orders_update ON orders FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY orders_delete ON orders FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

CREATE POLICY order_items_read ON order_items FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY order_items_insert ON order_items FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY order_items_update ON order_items FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY order_items_delete ON order_items FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

CREATE POLICY venue_settings_read ON venue_settings FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY venue_settings_insert ON venue_settings FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1024)));
CREATE POLICY venue_settings_update ON venue_settings FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1024)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1024)));
CREATE POLICY venue_settings_delete ON venue_settings FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1024)));

-- The catalogue is group-level: the bound venue's group only.
CREATE POLICY menu_items_read ON menu_items FOR SELECT TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(0)));

-- Audit events: a venue function writes its own venue's events; the issuer writes the
-- platform-level ones (no venue); only the consumer reads the outbox and writes the log.
CREATE POLICY audit_outbox_venue_insert ON audit_outbox FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY audit_outbox_issuer_insert ON audit_outbox FOR INSERT TO app_issuer
    WITH CHECK (venue_id IS NULL);
CREATE POLICY audit_outbox_consumer ON audit_outbox FOR ALL TO app_audit
    USING (true) WITH CHECK (true);
CREATE POLICY audit_log_consumer ON audit_log FOR ALL TO app_audit
    USING (true) WITH CHECK (true);

-- The issuer decides a sign-in's scopes from the person's attachments and their venues'
-- MFA setting (columns granted below), before any venue is bound.
CREATE POLICY venue_attachments_issuer ON venue_attachments FOR SELECT TO app_issuer
    USING (true);
CREATE POLICY venue_settings_issuer ON venue_settings FOR SELECT TO app_issuer
    USING (true);

-- The verifier reads attachments and settings of the bound venue only.
CREATE POLICY venue_attachments_gatekeeper ON venue_attachments FOR SELECT TO app_gatekeeper
    USING (venue_id = app.current_venue_id() AND user_id = app.current_user_id());
CREATE POLICY venue_settings_gatekeeper ON venue_settings FOR SELECT TO app_gatekeeper
    USING (venue_id = app.current_venue_id());

-- --- grants: each role exactly what its functions need ---------------------------------------

-- Nothing for PUBLIC, nothing left for the single runtime role of earlier versions.
DO $$
DECLARE
    t record;
BEGIN
    FOR t IN SELECT tablename FROM pg_tables
             WHERE schemaname = 'public' AND tableowner = current_user LOOP
        EXECUTE format('REVOKE ALL ON public.%I FROM PUBLIC, app_runtime', t.tablename);
    END LOOP;
END
$$;
REVOKE ALL ON ALL FUNCTIONS IN SCHEMA app FROM PUBLIC, app_runtime;
REVOKE ALL ON SCHEMA public, app FROM app_runtime;

GRANT USAGE ON SCHEMA public, app TO app_venue, app_issuer, app_audit;
GRANT EXECUTE ON FUNCTION app.current_venue_id(), app.current_user_id(),
    app.current_session_id() TO app_venue, app_issuer, app_gatekeeper;
GRANT EXECUTE ON FUNCTION app.binding_allows(bigint) TO app_venue;

-- app_venue: venue data through the policies above; names of venues and people; its own
-- session's standing. No password hash, TOTP secret, code, refresh token or client secret.
GRANT SELECT ON venue_groups, venues TO app_venue;
GRANT SELECT (id, email, display_name, is_platform_admin, disabled_at, created_at)
    ON users TO app_venue;
GRANT SELECT (id, user_id, expires_at, revoked_at) ON auth_sessions TO app_venue;
GRANT SELECT, INSERT, UPDATE, DELETE ON venue_attachments, staff_members, orders, order_items,
    menu_item_prices, till_device_venues TO app_venue;
GRANT SELECT ON menu_items TO app_venue;
GRANT SELECT, INSERT, UPDATE ON venue_settings TO app_venue;
GRANT INSERT ON audit_outbox TO app_venue;

-- app_issuer: credentials and sign-in state; people's attachments to decide scopes.
GRANT SELECT ON users TO app_issuer;
GRANT UPDATE (password_hash, password_changed_at) ON users TO app_issuer;
GRANT SELECT ON oauth_clients TO app_issuer;
GRANT SELECT (venue_id, user_id, role, permissions) ON venue_attachments TO app_issuer;
GRANT SELECT (venue_id, require_mfa_for_admins) ON venue_settings TO app_issuer;
GRANT SELECT, INSERT, UPDATE ON authorization_codes, mfa_challenges, refresh_tokens,
    auth_sessions TO app_issuer;
GRANT SELECT, INSERT, UPDATE, DELETE ON user_totp, mfa_recovery_codes TO app_issuer;
GRANT SELECT, INSERT, DELETE ON sign_in_failures TO app_issuer;
GRANT INSERT ON audit_outbox TO app_issuer;

-- app_audit: reads the outbox, marks rows published, appends to the log.
GRANT SELECT, UPDATE (published_at) ON audit_outbox TO app_audit;
GRANT SELECT, INSERT ON audit_log TO app_audit;
