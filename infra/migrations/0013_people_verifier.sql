-- The verifier as 0008 (tills) left it, and two things more:
--
-- - `required = -1`: the bindings are genuine and live and the bound user is a platform
--   admin whose session had a second factor (no venue looked at): what the platform area's
--   policies (0007) and routes ask. A till session's binding never passes it. Other
--   negative values are reserved and answer false.
-- - A till session of a member of staff who has been deactivated (0007: staff are
--   deactivated, never deleted) is no longer live: deactivating someone ends their till
--   sessions at their next request.
--
-- It must run after 0008, which rewrote the verifier before it; hence its number, after the
-- migrations of the branches merged before it (docs/database-roles.md).

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

GRANT SELECT (deactivated_at) ON staff_members TO app_gatekeeper;
