-- People: the staff roster's active state, the venue a person last picked, and the platform
-- area's writes (venue groups, venues, disabling accounts).
--
-- The platform area is reached by user routes (no venue bound). What they write is allowed
-- by the binding verifier alone, through one more value of `required`:
--
--   app.binding_allows(-1)  the bindings are genuine and live (as for NULL) and the bound
--                           user is a platform admin whose session had a second factor.
--
-- Other negative values are reserved and answer false. The check lives in the verifier, the
-- one SECURITY DEFINER function, because a policy on `users` cannot read `users` itself.

-- --- the verifier: required = -1 -----------------------------------------------------------

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

-- --- the staff roster ------------------------------------------------------------------------

-- A member of staff is deactivated, never deleted: orders keep pointing at who took them.
ALTER TABLE staff_members ADD COLUMN deactivated_at timestamptz;

-- --- the venue switcher's memory ---------------------------------------------------------------

-- The venue a person last picked. User-scoped: only its person reads or writes it, and only
-- for a venue they are attached to (or, as a platform admin with a second factor, any).
CREATE TABLE user_current_venues (
    user_id     uuid PRIMARY KEY REFERENCES users (id),
    venue_id    uuid NOT NULL REFERENCES venues (id),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
ALTER TABLE user_current_venues ENABLE ROW LEVEL SECURITY;
ALTER TABLE user_current_venues FORCE ROW LEVEL SECURITY;
CREATE POLICY user_current_venues_read ON user_current_venues FOR SELECT TO app_venue
    USING (user_id = app.current_user_id() AND (SELECT app.binding_allows(NULL)));
CREATE POLICY user_current_venues_insert ON user_current_venues FOR INSERT TO app_venue
    WITH CHECK (user_id = app.current_user_id() AND (SELECT app.binding_allows(NULL))
                AND (EXISTS (SELECT 1 FROM venue_attachments a
                             WHERE a.venue_id = user_current_venues.venue_id
                               AND a.user_id = app.current_user_id())
                     OR (SELECT app.binding_allows(-1))));
CREATE POLICY user_current_venues_update ON user_current_venues FOR UPDATE TO app_venue
    USING (user_id = app.current_user_id() AND (SELECT app.binding_allows(NULL)))
    WITH CHECK (user_id = app.current_user_id() AND (SELECT app.binding_allows(NULL))
                AND (EXISTS (SELECT 1 FROM venue_attachments a
                             WHERE a.venue_id = user_current_venues.venue_id
                               AND a.user_id = app.current_user_id())
                     OR (SELECT app.binding_allows(-1))));
GRANT SELECT, INSERT, UPDATE ON user_current_venues TO app_venue;

-- --- the platform area: venue groups, venues, accounts -------------------------------------------

-- Who created a group or a venue through the platform area (NULL: before it existed).
ALTER TABLE venue_groups ADD COLUMN created_by uuid REFERENCES users (id);
ALTER TABLE venues ADD COLUMN created_by uuid REFERENCES users (id);

-- Row-level security is enabled on these three, not forced: it holds the function roles to
-- the policies below, while the owner's migrations (backfills of new columns) still see
-- every row. None of them has a venue_id column.
ALTER TABLE venue_groups ENABLE ROW LEVEL SECURITY;
ALTER TABLE venues ENABLE ROW LEVEL SECURITY;
ALTER TABLE users ENABLE ROW LEVEL SECURITY;

-- app_venue reads names of groups, venues and people as before, now only with genuine
-- bindings; the bound row itself even before (the gate reads the caller's own account to
-- say why it refuses, and the bound venue, without a second call of the verifier).
CREATE POLICY venue_groups_read ON venue_groups FOR SELECT TO app_venue
    USING (id = (SELECT v.group_id FROM public.venues v WHERE v.id = app.current_venue_id())
           OR (SELECT app.binding_allows(NULL)));
CREATE POLICY venues_read ON venues FOR SELECT TO app_venue
    USING (id = app.current_venue_id() OR (SELECT app.binding_allows(NULL)));
CREATE POLICY users_read ON users FOR SELECT TO app_venue
    USING (id = app.current_user_id() OR (SELECT app.binding_allows(NULL)));

-- ... and writes them only as a platform admin with a second factor: a group or venue it
-- creates is signed with its own id; an account it disables or enables is never its own.
CREATE POLICY venue_groups_platform_insert ON venue_groups FOR INSERT TO app_venue
    WITH CHECK (created_by = app.current_user_id() AND (SELECT app.binding_allows(-1)));
CREATE POLICY venues_platform_insert ON venues FOR INSERT TO app_venue
    WITH CHECK (created_by = app.current_user_id() AND (SELECT app.binding_allows(-1)));
CREATE POLICY users_platform_update ON users FOR UPDATE TO app_venue
    USING (id <> app.current_user_id() AND (SELECT app.binding_allows(-1)))
    WITH CHECK (id <> app.current_user_id() AND (SELECT app.binding_allows(-1)));

GRANT INSERT (id, name, created_by) ON venue_groups TO app_venue;
GRANT INSERT (id, group_id, name, slug, timezone, currency, created_by) ON venues TO app_venue;
GRANT UPDATE (disabled_at) ON users TO app_venue;

-- The other roles keep reading what their grants allow, unfiltered.
CREATE POLICY users_issuer ON users FOR ALL TO app_issuer USING (true) WITH CHECK (true);
CREATE POLICY users_gatekeeper ON users FOR SELECT TO app_gatekeeper USING (true);
CREATE POLICY venues_gatekeeper ON venues FOR SELECT TO app_gatekeeper USING (true);

-- --- audit events of an account's own actions ---------------------------------------------------

-- A user route (no venue bound) writes platform-level events only as their actor: the venue
-- switcher's choice, the platform area's actions and refusals.
CREATE POLICY audit_outbox_account_insert ON audit_outbox FOR INSERT TO app_venue
    WITH CHECK (venue_id IS NULL AND actor_user_id = app.current_user_id()
                AND (SELECT app.binding_allows(NULL)));
