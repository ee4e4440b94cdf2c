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
-- The verifier learns it in 0013_people_verifier.sql, which must run after 0008 (tills),
-- the other migration that rewrites the verifier (both are applied by the same run of
-- infra.migrate). Everything here holds whichever order this file and 0008..0011 run in: a
-- fresh database runs it before them, a database that has them runs it after.

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
