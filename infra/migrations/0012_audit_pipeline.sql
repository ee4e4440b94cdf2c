-- The audit pipeline (docs/architecture.md, "The audit pipeline"): who reads the trail, and
-- the rate limiter of the alerts that critical events raise.
--
-- The consumer (app_audit) appends to audit_log, marks the outbox row consumed
-- (published_at) and keeps the alerts' token buckets. The venue functions read the trail
-- through two policies: a venue's own rows with VIEW_AUDIT (2048), and every row for a
-- platform admin with a second factor on a route bound to no venue.

-- --- the binding verifier learns one more question --------------------------------------------

-- required = -1: the bound user is a platform admin who signed in with a second factor in
-- this session (the venue, if any, is not looked at; a till session never is one). The rest
-- is 0008's function unchanged: it is still the only SECURITY DEFINER function, still owned
-- by app_gatekeeper.
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
        IF required < 0 THEN
            RETURN false;  -- a till session is never a platform admin
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
    IF required < 0 THEN
        RETURN required = -1 AND v_standing.is_platform_admin AND v_mfa = '1';
    END IF;
    IF v_standing.role IS NOT NULL THEN
        RETURN v_standing.permissions & required = required
           AND NOT (v_standing.venue_requires_mfa AND v_mfa <> '1'
                    AND v_standing.role IN ('owner', 'regional_manager', 'manager'));
    END IF;
    RETURN v_standing.is_platform_admin AND v_mfa = '1' AND v_standing.venue_exists;
END
$$;

-- --- reading the trail --------------------------------------------------------------------------

-- A venue's own trail, for those holding VIEW_AUDIT there (2048, tenancy.Permission).
CREATE POLICY audit_log_venue_read ON audit_log FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2048)));
-- Every venue's trail and the platform's own, for a platform admin with a second factor, on
-- a route bound to no venue (GET /platform/audit): a venue route never widens to it.
CREATE POLICY audit_log_platform_read ON audit_log FOR SELECT TO app_venue
    USING (app.current_venue_id() IS NULL AND (SELECT app.binding_allows(-1)));
-- That read is itself audited: a platform-level event (no venue) by the bound admin.
CREATE POLICY audit_outbox_platform_insert ON audit_outbox FOR INSERT TO app_venue
    WITH CHECK (venue_id IS NULL AND actor_user_id = app.current_user_id()
                AND app.current_venue_id() IS NULL AND (SELECT app.binding_allows(-1)));

GRANT SELECT ON audit_log TO app_venue;

-- The platform route reads across chains, newest first.
CREATE INDEX audit_log_recorded ON audit_log (recorded_at DESC, event_id DESC);

-- --- alerts: a token bucket per venue and kind -----------------------------------------------

-- `tokens` refill continuously up to the burst allowance; an alert takes one. When none is
-- left the alert is held back (`held` counts them) and the sweeper later publishes one
-- summary saying how many. venue_id NULL is the platform's own bucket of that kind.
CREATE TABLE audit_alert_buckets (
    venue_id       uuid REFERENCES venues (id),
    kind           text NOT NULL,
    tokens         double precision NOT NULL,
    refilled_at    timestamptz NOT NULL,
    last_allowed   boolean NOT NULL DEFAULT true,
    held           integer NOT NULL DEFAULT 0 CHECK (held >= 0),
    first_held_at  timestamptz,
    CONSTRAINT audit_alert_buckets_key UNIQUE NULLS NOT DISTINCT (venue_id, kind)
);

-- An alert the bucket allowed, until SNS has taken it: a redelivered message, or the
-- sweeper, sends what a crash left unsent (and nothing twice once sent).
CREATE TABLE audit_alerts (
    event_id    uuid PRIMARY KEY REFERENCES audit_log (event_id),
    kind        text NOT NULL,
    decided_at  timestamptz NOT NULL DEFAULT now(),
    sent_at     timestamptz
);
CREATE INDEX audit_alerts_unsent ON audit_alerts (decided_at) WHERE sent_at IS NULL;

ALTER TABLE audit_alert_buckets ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_alert_buckets FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_alert_buckets_consumer ON audit_alert_buckets FOR ALL TO app_audit
    USING (true) WITH CHECK (true);
ALTER TABLE audit_alerts ENABLE ROW LEVEL SECURITY;
ALTER TABLE audit_alerts FORCE ROW LEVEL SECURITY;
CREATE POLICY audit_alerts_consumer ON audit_alerts FOR ALL TO app_audit
    USING (true) WITH CHECK (true);

REVOKE ALL ON audit_alert_buckets, audit_alerts FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE ON audit_alert_buckets TO app_audit;
GRANT SELECT, INSERT ON audit_alerts TO app_audit;
GRANT UPDATE (sent_at) ON audit_alerts TO app_audit;
