-- The gate's statement at a venue, as a function: the signed bindings, the caller's standing
-- and the platform-admin override's audit event in one call whose plans Postgres keeps.
--
-- Until now the gate sent the bindings (set_config, five values) and then its read (users,
-- the sign-in session, the attachment, whether the venue exists, the verifier's answer, and
-- a CTE writing the override's critical audit event) as two statements, planned anew on
-- every request: connections run with psycopg's prepare_threshold=None, because named
-- prepared statements would pin RDS Proxy sessions. A PL/pgSQL function plans its
-- statements once per database session and keeps the plans (generic after five calls):
-- nothing is prepared on the protocol, so RDS Proxy sees one ordinary unnamed statement.
--
-- Nothing about the checks changes:
-- - SECURITY INVOKER: it runs as the caller's role (app_venue), so every table it reads or
--   writes is under that role's grants and row-level security, as the statements it replaces
--   were; the attachment's read policy still asks app.binding_allows() (once per execution:
--   a policy's sub-select is evaluated by each execution of a kept plan, never at planning).
-- - `allowed` is still app.binding_allows(0), the verifier's own answer (0019 holds its newest definition).
-- - The bindings are set transaction-locally with the strings the gate signed, exactly as
--   tenancy.bindings.Bindings.SQL sets them; the function has no SET clause (which would undo
--   them at its exit), so every name in it is schema-qualified.
-- - The override's event is written only when it applies, under audit_outbox's insert
--   policy, as the CTE did.

CREATE FUNCTION app.venue_gate(
    p_venue text, p_user text, p_session text, p_mfa text, p_binding text,
    p_event uuid, p_details jsonb)
    RETURNS TABLE (is_platform_admin boolean, disabled boolean, session_live boolean,
                   attached_role text, attached_permissions bigint, venue_exists boolean,
                   allowed boolean)
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER
    AS $$
DECLARE
    v_venue    uuid := p_venue::uuid;
    v_user     uuid := p_user::uuid;
    v_session  uuid := p_session::uuid;
    v_standing record;
BEGIN
    PERFORM pg_catalog.set_config('app.venue_id', p_venue, true),
            pg_catalog.set_config('app.user_id', p_user, true),
            pg_catalog.set_config('app.session_id', p_session, true),
            pg_catalog.set_config('app.mfa', p_mfa, true),
            pg_catalog.set_config('app.binding', p_binding, true);

    SELECT u.is_platform_admin,
           u.disabled_at IS NOT NULL AS disabled,
           coalesce(s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now(), false)
               AS session_live,
           a.role,
           a.permissions,
           EXISTS (SELECT 1 FROM public.venues v WHERE v.id = v_venue) AS venue_exists,
           app.binding_allows(0) AS allowed
    INTO v_standing
    FROM public.users u
    LEFT JOIN public.auth_sessions s ON s.id = v_session
    LEFT JOIN public.venue_attachments a ON a.venue_id = v_venue AND a.user_id = u.id
    WHERE u.id = v_user;
    IF NOT FOUND THEN
        RETURN;
    END IF;

    IF v_standing.role IS NULL AND v_standing.is_platform_admin AND v_standing.allowed THEN
        INSERT INTO public.audit_outbox
            (id, venue_id, actor_user_id, action, target_type, target_id, details, critical)
        VALUES (p_event, v_venue, v_user, 'platform_admin.venue_access', 'venue', p_venue,
                p_details, true);
    END IF;

    is_platform_admin := v_standing.is_platform_admin;
    disabled := v_standing.disabled;
    session_live := v_standing.session_live;
    attached_role := v_standing.role;
    attached_permissions := v_standing.permissions;
    venue_exists := v_standing.venue_exists;
    allowed := v_standing.allowed;
    RETURN NEXT;
END
$$;

REVOKE ALL ON FUNCTION app.venue_gate(text, text, text, text, text, uuid, jsonb) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.venue_gate(text, text, text, text, text, uuid, jsonb)
    TO app_venue;

-- The same for a route bound to no venue (the account's own routes): the signed bindings
-- (no venue) and the caller's standing, as tenancy.gate sent them in two statements. No
-- verifier call: the read policy on users shows the bound user's own row, and sign-in
-- sessions have no policy (app_venue reads four columns of them; app_issuer owns them).
CREATE FUNCTION app.user_gate(p_user text, p_session text, p_mfa text, p_binding text)
    RETURNS TABLE (is_platform_admin boolean, disabled boolean, session_live boolean)
    LANGUAGE plpgsql VOLATILE SECURITY INVOKER
    AS $$
DECLARE
    v_user     uuid := p_user::uuid;
    v_session  uuid := p_session::uuid;
BEGIN
    PERFORM pg_catalog.set_config('app.venue_id', '', true),
            pg_catalog.set_config('app.user_id', p_user, true),
            pg_catalog.set_config('app.session_id', p_session, true),
            pg_catalog.set_config('app.mfa', p_mfa, true),
            pg_catalog.set_config('app.binding', p_binding, true);

    RETURN QUERY
    SELECT u.is_platform_admin,
           u.disabled_at IS NOT NULL,
           coalesce(s.user_id = u.id AND s.revoked_at IS NULL AND s.expires_at > now(), false)
    FROM public.users u
    LEFT JOIN public.auth_sessions s ON s.id = v_session
    WHERE u.id = v_user;
END
$$;

REVOKE ALL ON FUNCTION app.user_gate(text, text, text, text) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION app.user_gate(text, text, text, text) TO app_venue, app_issuer;
