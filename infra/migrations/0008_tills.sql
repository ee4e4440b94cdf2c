-- Tills and PINs (docs/architecture.md, "Tills and PINs").
--
-- A staff member's PIN is stored as an HMAC-SHA256 keyed by a pepper the database never
-- sees (staff_pins), so a PIN can be looked up and kept unique per venue. A till session
-- (till_sessions) is opened by the issuer when a PIN is entered on a registered till: it
-- binds one device, one venue and one staff member, and ends at its absolute expiry, after
-- a spell of inactivity, or when the till is locked.
--
-- The gate binds a till session with no user (app.user_id = '') and the till session's id
-- as app.session_id; app.binding_allows() learns to accept such a binding for the session's
-- own venue, with the flags of the staff member's role (role_permissions), narrowed to the
-- linked account's attachment when the staff member has an account.

-- --- the role catalogue, for the database -----------------------------------------------------

-- tenancy.ROLE_DEFAULTS as data: a till session acts with its staff member's role's flags,
-- which the verifier must know. A test keeps these rows equal to ROLE_DEFAULTS.
CREATE TABLE role_permissions (
    role         text PRIMARY KEY,
    permissions  bigint NOT NULL CHECK (permissions >= 0)
);
INSERT INTO role_permissions (role, permissions) VALUES
    ('owner', 8191),
    ('regional_manager', 4095),
    ('manager', 4095),
    ('head_chef', 205),
    ('chef', 5),
    ('waiter', 67),
    ('casual', 1);

-- --- staff PINs ---------------------------------------------------------------------------------

-- One PIN per staff member: HMAC-SHA256 under the pepper ``key_id`` of 'venue id|PIN'.
-- Unique per venue (under each pepper key), so a PIN names one person at its venue.
CREATE TABLE staff_pins (
    staff_member_id  uuid PRIMARY KEY,
    venue_id         uuid NOT NULL,
    key_id           text NOT NULL CHECK (key_id ~ '^[a-z0-9]{1,16}$'),
    pin_hmac         bytea NOT NULL CHECK (length(pin_hmac) = 32),
    set_at           timestamptz NOT NULL DEFAULT now(),
    set_by           uuid REFERENCES users (id),
    FOREIGN KEY (staff_member_id, venue_id) REFERENCES staff_members (id, venue_id)
        ON DELETE CASCADE
);
CREATE UNIQUE INDEX staff_pins_unique ON staff_pins (venue_id, key_id, pin_hmac);

ALTER TABLE staff_pins ENABLE ROW LEVEL SECURITY;
ALTER TABLE staff_pins FORCE ROW LEVEL SECURITY;
-- Only someone who may manage the venue's staff sees or writes its PIN digests.
CREATE POLICY staff_pins_read ON staff_pins FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY staff_pins_insert ON staff_pins FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY staff_pins_update ON staff_pins FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY staff_pins_delete ON staff_pins FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
-- The issuer looks a PIN up when a till session is opened.
CREATE POLICY staff_pins_issuer ON staff_pins FOR SELECT TO app_issuer USING (true);

-- --- till sessions ------------------------------------------------------------------------------

CREATE TABLE till_sessions (
    id               uuid PRIMARY KEY,
    venue_id         uuid NOT NULL REFERENCES venues (id),
    client_id        text NOT NULL REFERENCES oauth_clients (client_id),
    staff_member_id  uuid NOT NULL,
    opened_at        timestamptz NOT NULL DEFAULT now(),
    last_seen_at     timestamptz NOT NULL DEFAULT now(),
    idle_seconds     integer NOT NULL CHECK (idle_seconds > 0),
    expires_at       timestamptz NOT NULL,
    ended_at         timestamptz,
    FOREIGN KEY (staff_member_id, venue_id) REFERENCES staff_members (id, venue_id)
        ON DELETE CASCADE
);
CREATE INDEX till_sessions_open_on_device ON till_sessions (client_id) WHERE ended_at IS NULL;
CREATE INDEX till_sessions_open_for_staff ON till_sessions (staff_member_id)
    WHERE ended_at IS NULL;

ALTER TABLE till_sessions ENABLE ROW LEVEL SECURITY;
ALTER TABLE till_sessions FORCE ROW LEVEL SECURITY;
-- A till session sees and touches its own row (the gate notes activity, the till locks).
CREATE POLICY till_sessions_own_read ON till_sessions FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND id = app.current_session_id()
           AND (SELECT app.binding_allows(NULL)));
CREATE POLICY till_sessions_own_update ON till_sessions FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND id = app.current_session_id()
           AND (SELECT app.binding_allows(NULL)))
    WITH CHECK (venue_id = app.current_venue_id() AND id = app.current_session_id()
                AND (SELECT app.binding_allows(NULL)));
-- Whoever manages the venue's staff ends their sessions (a PIN reset ends the person's).
CREATE POLICY till_sessions_staff_read ON till_sessions FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY till_sessions_staff_update ON till_sessions FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
-- The issuer opens them, and ends the device's previous one when it does.
CREATE POLICY till_sessions_issuer_read ON till_sessions FOR SELECT TO app_issuer USING (true);
CREATE POLICY till_sessions_issuer_insert ON till_sessions FOR INSERT TO app_issuer
    WITH CHECK (true);
CREATE POLICY till_sessions_issuer_update ON till_sessions FOR UPDATE TO app_issuer
    USING (true) WITH CHECK (true);

-- --- what the issuer reads to open a till session ----------------------------------------------

CREATE POLICY staff_members_issuer ON staff_members FOR SELECT TO app_issuer USING (true);
CREATE POLICY till_device_venues_issuer ON till_device_venues FOR SELECT TO app_issuer
    USING (true);

-- Wrong PINs are counted per till device, as failed sign-ins are per identifier and IP.
ALTER TABLE sign_in_failures DROP CONSTRAINT sign_in_failures_scope_check;
ALTER TABLE sign_in_failures
    ADD CONSTRAINT sign_in_failures_scope_check CHECK (scope IN ('identifier', 'ip', 'till'));

-- --- registering a till from a venue ------------------------------------------------------------

-- A manager registers a till at their venue: the venue role may add a till client (never an
-- SPA, whose redirect URIs would be a phishing door), and reads no client at all.
ALTER TABLE oauth_clients ENABLE ROW LEVEL SECURITY;
ALTER TABLE oauth_clients FORCE ROW LEVEL SECURITY;
CREATE POLICY oauth_clients_issuer ON oauth_clients FOR SELECT TO app_issuer USING (true);
CREATE POLICY oauth_clients_till_insert ON oauth_clients FOR INSERT TO app_venue
    WITH CHECK (kind = 'till' AND redirect_uris = '{}' AND disabled_at IS NULL
                AND app.current_venue_id() IS NOT NULL AND (SELECT app.binding_allows(16)));
CREATE POLICY oauth_clients_gatekeeper ON oauth_clients FOR SELECT TO app_gatekeeper
    USING (kind = 'till');

-- --- the verifier's reads -----------------------------------------------------------------------

CREATE POLICY till_sessions_gatekeeper ON till_sessions FOR SELECT TO app_gatekeeper
    USING (venue_id = app.current_venue_id());
CREATE POLICY staff_members_gatekeeper ON staff_members FOR SELECT TO app_gatekeeper
    USING (venue_id = app.current_venue_id());
CREATE POLICY till_device_venues_gatekeeper ON till_device_venues FOR SELECT TO app_gatekeeper
    USING (venue_id = app.current_venue_id());
-- With a till session bound (no user), the attachment of its staff member's account.
CREATE POLICY venue_attachments_gatekeeper_till ON venue_attachments FOR SELECT
    TO app_gatekeeper
    USING (venue_id = app.current_venue_id() AND app.current_user_id() IS NULL
           AND user_id = (SELECT m.user_id
                          FROM public.till_sessions t
                          JOIN public.staff_members m
                            ON m.id = t.staff_member_id AND m.venue_id = t.venue_id
                          WHERE t.id = app.current_session_id()));

-- Whether the request's bindings are genuine and allow what is asked. As in 0003, and:
-- a binding without a user (app.user_id = '') is a till session's: app.session_id names a
-- till session of the bound venue, not ended, before its expiry and its inactivity limit,
-- on a device that still serves the venue and is not disabled, for a staff member whose
-- account (if they have one) is enabled and attached to the venue. Its flags are the staff
-- member's role's (role_permissions), narrowed to that attachment's; a till session never
-- has a second factor, so the venue's MFA rule for elevated roles refuses those.
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
          AND (m.user_id IS NULL OR (u.disabled_at IS NULL AND a.user_id IS NOT NULL));
        IF NOT FOUND THEN
            RETURN false;
        END IF;
        IF required IS NULL THEN
            RETURN true;
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
    IF v_standing.role IS NOT NULL THEN
        RETURN v_standing.permissions & required = required
           AND NOT (v_standing.venue_requires_mfa AND v_mfa <> '1'
                    AND v_standing.role IN ('owner', 'regional_manager', 'manager'));
    END IF;
    RETURN v_standing.is_platform_admin AND v_mfa = '1' AND v_standing.venue_exists;
END
$$;

-- --- grants -------------------------------------------------------------------------------------

REVOKE ALL ON role_permissions, staff_pins, till_sessions FROM PUBLIC;

GRANT SELECT ON role_permissions TO app_venue, app_gatekeeper;

-- app_venue: PIN digests of its venue (keyed by a pepper it does not hold), its own till
-- session, and registering a till (an insert it cannot read back).
GRANT SELECT, INSERT, UPDATE, DELETE ON staff_pins TO app_venue;
GRANT SELECT ON till_sessions TO app_venue;
GRANT UPDATE (last_seen_at, ended_at) ON till_sessions TO app_venue;
GRANT INSERT (client_id, name, kind, secret_hash) ON oauth_clients TO app_venue;

-- app_issuer: what opening a till session reads and writes.
GRANT SELECT (staff_member_id, venue_id, key_id, pin_hmac) ON staff_pins TO app_issuer;
GRANT SELECT (id, venue_id, user_id, display_name, role) ON staff_members TO app_issuer;
GRANT SELECT ON till_device_venues TO app_issuer;
GRANT SELECT, INSERT ON till_sessions TO app_issuer;
GRANT UPDATE (ended_at) ON till_sessions TO app_issuer;

-- app_gatekeeper: what the verifier checks of a till session.
GRANT SELECT (id, venue_id, client_id, staff_member_id, last_seen_at, idle_seconds,
              expires_at, ended_at) ON till_sessions TO app_gatekeeper;
GRANT SELECT (id, venue_id, user_id, role) ON staff_members TO app_gatekeeper;
GRANT SELECT (client_id, venue_id) ON till_device_venues TO app_gatekeeper;
GRANT SELECT (client_id, kind, disabled_at) ON oauth_clients TO app_gatekeeper;
