-- Invitations: attaching an email that has no account invites it. The invitation is the
-- venue's (a manager with MANAGE_STAFF writes it and reads it, through the ordinary venue
-- policies); the person completes it on the issuer's pages, where the issuer creates the
-- account, consumes the invitation and attaches the account, in one transaction. The link's
-- token is single-use, expiring and stored only as its SHA-256, like a password-reset link's.
--
-- And: a member of staff who has been deactivated opens no till session (the issuer now reads
-- deactivated_at when it looks a PIN up).

GRANT SELECT (deactivated_at) ON staff_members TO app_issuer;

CREATE TABLE venue_invitations (
    id                uuid PRIMARY KEY,
    venue_id          uuid NOT NULL REFERENCES venues (id),
    email             text NOT NULL CHECK (email = lower(email) AND length(email) <= 320),
    role              text NOT NULL,
    permissions       bigint NOT NULL CHECK (permissions >= 0),
    token_hash        bytea NOT NULL UNIQUE,
    -- NULL when the platform invites (a new venue's first owner, the demo seed).
    invited_by        uuid REFERENCES users (id),
    created_at        timestamptz NOT NULL DEFAULT now(),
    expires_at        timestamptz NOT NULL,
    accepted_at       timestamptz,
    accepted_user_id  uuid REFERENCES users (id),
    CHECK ((accepted_at IS NULL) = (accepted_user_id IS NULL))
);
-- One open invitation per address and venue: inviting again replaces it (a new link).
CREATE UNIQUE INDEX venue_invitations_pending ON venue_invitations (venue_id, email)
    WHERE accepted_at IS NULL;

ALTER TABLE venue_invitations ENABLE ROW LEVEL SECURITY;
ALTER TABLE venue_invitations FORCE ROW LEVEL SECURITY;

-- Whoever manages the venue's staff invites, sees and cancels (deletes) its invitations; an
-- invitation is never changed by the venue (inviting again replaces it).
CREATE POLICY venue_invitations_read ON venue_invitations FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(16)));
CREATE POLICY venue_invitations_insert ON venue_invitations FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND invited_by = app.current_user_id()
                AND accepted_at IS NULL AND (SELECT app.binding_allows(16)));
CREATE POLICY venue_invitations_delete ON venue_invitations FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND accepted_at IS NULL
           AND (SELECT app.binding_allows(16)));

-- The issuer finds an invitation by its token's digest and consumes it.
CREATE POLICY venue_invitations_issuer_read ON venue_invitations FOR SELECT TO app_issuer
    USING (true);
CREATE POLICY venue_invitations_issuer_accept ON venue_invitations FOR UPDATE TO app_issuer
    USING (accepted_at IS NULL) WITH CHECK (accepted_at IS NOT NULL);

GRANT SELECT, INSERT, DELETE ON venue_invitations TO app_venue;
GRANT SELECT, UPDATE (accepted_at, accepted_user_id) ON venue_invitations TO app_issuer;

-- The issuer creates the invited person's account ...
GRANT INSERT (id, email, display_name, password_hash, password_changed_at) ON users
    TO app_issuer;

-- ... and attaches it, only as the invitation it consumed in this very transaction says.
CREATE POLICY venue_attachments_issuer_invited ON venue_attachments FOR INSERT TO app_issuer
    WITH CHECK (EXISTS (SELECT 1 FROM venue_invitations i
                        WHERE i.venue_id = venue_attachments.venue_id
                          AND i.accepted_user_id = venue_attachments.user_id
                          AND i.role = venue_attachments.role
                          AND i.permissions = venue_attachments.permissions
                          AND i.accepted_at = now()));
GRANT INSERT (venue_id, user_id, role, permissions) ON venue_attachments TO app_issuer;

-- The acceptance is the venue's event (its actor the new account), written by the issuer
-- under the same condition.
CREATE POLICY audit_outbox_issuer_invitation ON audit_outbox FOR INSERT TO app_issuer
    WITH CHECK (action = 'staff.invitation_accepted'
                AND EXISTS (SELECT 1 FROM venue_invitations i
                            WHERE i.venue_id = audit_outbox.venue_id
                              AND i.accepted_user_id = audit_outbox.actor_user_id
                              AND i.accepted_at = now()));
