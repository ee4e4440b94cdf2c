-- The audit pipeline (docs/architecture.md, "The audit pipeline"): who reads the trail, and
-- the rate limiter of the alerts that critical events raise.
--
-- The consumer (app_audit) appends to audit_log, marks the outbox row consumed
-- (published_at) and keeps the alerts' token buckets. The venue functions read the trail
-- through two policies: a venue's own rows with VIEW_AUDIT (2048), and every row for a
-- platform admin with a second factor on a route bound to no venue.

-- The policies below ask app.binding_allows(-1): a platform admin who signed in with a
-- second factor. The verifier learns that question in 0013, which rewrites it once for
-- every branch merged before it (till sessions, the platform area, this trail).

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
