-- An account writes platform-level events of its own actions (0007: the venue switcher's
-- choice, the platform area's actions and refusals), but never in the platform_admin.*
-- namespace: those events (the audit trail read, 0012) are written only by a platform admin
-- whose session has a second factor (audit_outbox_platform_insert), so an account cannot
-- forge one under its own name.
DROP POLICY audit_outbox_account_insert ON audit_outbox;
CREATE POLICY audit_outbox_account_insert ON audit_outbox FOR INSERT TO app_venue
    WITH CHECK (venue_id IS NULL AND actor_user_id = app.current_user_id()
                AND action !~ '^platform_admin\.'
                AND (SELECT app.binding_allows(NULL)));
