-- What a group shares (its recipe library and supplier list) and the venues' diners.
--
-- Group-level tables (recipes, suppliers) carry group_id: a venue sees its own group's rows
-- only, through the bound venue. Diners are venue-level: each venue keeps its own row for a
-- person, found by `identity`, an HMAC-SHA256 under a secret salt over the normalised email
-- or phone, so the same person has the same identity at every venue without the contact
-- being stored. Allergens and dietary notes are sealed (AES-256-GCM, key id in the text,
-- the row id and the venue as associated data) by the functions; the database never sees
-- them in clear. A diner's visits at the group's other venues are readable at a venue only
-- while that diner's consent recorded there is active (diner_visits_read below).
--
-- Flags named by value (tenancy.Permission; tests/security keeps them equal):
--   VIEW_ORDERS 1 (read recipes, diners, visits), TAKE_ORDERS 2 (write diners, visits,
--   consent), EDIT_MENU 4 (read suppliers), MANAGE_GROUP 8192 (write recipes, suppliers).

-- Owners hold every flag: the new one included. Migrations run as the tables' owner, whom
-- forced row-level security holds to policies it has none of: lifted for this statement.
ALTER TABLE venue_attachments NO FORCE ROW LEVEL SECURITY;
UPDATE venue_attachments SET permissions = permissions | 8192 WHERE role = 'owner';
ALTER TABLE venue_attachments FORCE ROW LEVEL SECURITY;

-- --- the group's library ------------------------------------------------------------------

CREATE TABLE suppliers (
    id          uuid PRIMARY KEY,
    group_id    uuid NOT NULL REFERENCES venue_groups (id),
    name        text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
    contact     text NOT NULL DEFAULT '' CHECK (length(contact) <= 500),
    supplies    text[] NOT NULL DEFAULT '{}' CHECK (cardinality(supplies) <= 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now(),
    UNIQUE (id, group_id)
);
CREATE INDEX suppliers_group ON suppliers (group_id, name);

-- One recipe per catalogue item; the composite key keeps it in the item's group.
CREATE TABLE recipes (
    id           uuid PRIMARY KEY,
    group_id     uuid NOT NULL,
    item_id      uuid NOT NULL,
    ingredients  jsonb NOT NULL CHECK (jsonb_typeof(ingredients) = 'array'),
    method       text NOT NULL CHECK (length(method) <= 20000),
    allergens    text[] NOT NULL DEFAULT '{}',
    created_at   timestamptz NOT NULL DEFAULT now(),
    updated_at   timestamptz NOT NULL DEFAULT now(),
    UNIQUE (item_id),
    UNIQUE (id, group_id),
    FOREIGN KEY (item_id, group_id) REFERENCES menu_items (id, group_id)
);
CREATE INDEX recipes_group ON recipes (group_id);

-- --- diners ---------------------------------------------------------------------------------

CREATE TABLE diners (
    id                uuid PRIMARY KEY,
    venue_id          uuid NOT NULL,
    group_id          uuid NOT NULL,
    identity          bytea NOT NULL CHECK (length(identity) = 32),
    display_name      text NOT NULL DEFAULT '' CHECK (length(display_name) <= 200),
    -- 'v1.<key id>.<nonce>.<ciphertext>' of {"allergens": [...], "dietary_notes": "..."};
    -- NULL until something is recorded.
    sensitive_sealed  text CHECK (sensitive_sealed LIKE 'v1.%'),
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    UNIQUE (venue_id, identity),
    UNIQUE (id, venue_id, group_id, identity),
    FOREIGN KEY (venue_id, group_id) REFERENCES venues (id, group_id)
);

-- A visit copies its diner's identity and group (the composite key keeps them true), so the
-- consent policy can match a visit at another venue without reading that venue's diners.
CREATE TABLE diner_visits (
    id          uuid PRIMARY KEY,
    venue_id    uuid NOT NULL,
    group_id    uuid NOT NULL,
    diner_id    uuid NOT NULL,
    identity    bytea NOT NULL,
    visited_at  timestamptz NOT NULL,
    party_size  integer NOT NULL CHECK (party_size BETWEEN 1 AND 100),
    created_at  timestamptz NOT NULL DEFAULT now(),
    FOREIGN KEY (diner_id, venue_id, group_id, identity)
        REFERENCES diners (id, venue_id, group_id, identity)
);
CREATE INDEX diner_visits_identity ON diner_visits (group_id, identity, visited_at DESC);

-- The diner's consent, recorded at a venue: that venue may see their visits at the group's
-- other venues. Records are kept; a withdrawal closes the active one.
CREATE TABLE diner_consents (
    id            uuid PRIMARY KEY,
    venue_id      uuid NOT NULL,
    group_id      uuid NOT NULL,
    diner_id      uuid NOT NULL,
    identity      bytea NOT NULL,
    granted_at    timestamptz NOT NULL DEFAULT now(),
    granted_by    uuid REFERENCES users (id),
    withdrawn_at  timestamptz,
    withdrawn_by  uuid REFERENCES users (id),
    CHECK (withdrawn_at IS NULL OR withdrawn_at >= granted_at),
    FOREIGN KEY (diner_id, venue_id, group_id, identity)
        REFERENCES diners (id, venue_id, group_id, identity)
);
CREATE UNIQUE INDEX diner_consents_active ON diner_consents (venue_id, identity)
    WHERE withdrawn_at IS NULL;

-- --- row-level security ------------------------------------------------------------------------

ALTER TABLE suppliers ENABLE ROW LEVEL SECURITY;
ALTER TABLE suppliers FORCE ROW LEVEL SECURITY;
ALTER TABLE recipes ENABLE ROW LEVEL SECURITY;
ALTER TABLE recipes FORCE ROW LEVEL SECURITY;
ALTER TABLE diners ENABLE ROW LEVEL SECURITY;
ALTER TABLE diners FORCE ROW LEVEL SECURITY;
ALTER TABLE diner_visits ENABLE ROW LEVEL SECURITY;
ALTER TABLE diner_visits FORCE ROW LEVEL SECURITY;
ALTER TABLE diner_consents ENABLE ROW LEVEL SECURITY;
ALTER TABLE diner_consents FORCE ROW LEVEL SECURITY;

-- The group's library: the bound venue's group only; reading needs the flag too.
CREATE POLICY recipes_read ON recipes FOR SELECT TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(1)));
CREATE POLICY recipes_insert ON recipes FOR INSERT TO app_venue
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(8192)));
CREATE POLICY recipes_update ON recipes FOR UPDATE TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(8192)))
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(8192)));
CREATE POLICY recipes_delete ON recipes FOR DELETE TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(8192)));

CREATE POLICY suppliers_read ON suppliers FOR SELECT TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(4)));
CREATE POLICY suppliers_insert ON suppliers FOR INSERT TO app_venue
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(8192)));
CREATE POLICY suppliers_update ON suppliers FOR UPDATE TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(8192)))
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(8192)));
CREATE POLICY suppliers_delete ON suppliers FOR DELETE TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(8192)));

-- Diners and consents: the bound venue's own.
CREATE POLICY diners_read ON diners FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1)));
CREATE POLICY diners_insert ON diners FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diners_update ON diners FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diners_delete ON diners FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

CREATE POLICY diner_consents_read ON diner_consents FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1)));
CREATE POLICY diner_consents_insert ON diner_consents FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diner_consents_update ON diner_consents FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diner_consents_delete ON diner_consents FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

-- Visits: the bound venue's own; or a visit at another venue of the bound venue's group of
-- a diner whose consent recorded at the bound venue is active. The consent is read through
-- its own policy (the bound venue's rows only), so withdrawing it hides those visits from
-- the next statement on. Writes are the bound venue's own only.
CREATE POLICY diner_visits_read ON diner_visits FOR SELECT TO app_venue
    USING ((venue_id = app.current_venue_id() AND (SELECT app.binding_allows(1)))
           OR (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
               AND EXISTS (SELECT 1 FROM diner_consents c
                           WHERE c.venue_id = app.current_venue_id()
                             AND c.identity = diner_visits.identity
                             AND c.withdrawn_at IS NULL)
               AND (SELECT app.binding_allows(1))));
CREATE POLICY diner_visits_insert ON diner_visits FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diner_visits_update ON diner_visits FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));
CREATE POLICY diner_visits_delete ON diner_visits FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(2)));

-- --- grants ------------------------------------------------------------------------------------

REVOKE ALL ON suppliers, recipes, diners, diner_visits, diner_consents FROM PUBLIC;
GRANT SELECT, INSERT, UPDATE, DELETE ON suppliers, recipes TO app_venue;
GRANT SELECT, INSERT, UPDATE ON diners, diner_visits, diner_consents TO app_venue;
