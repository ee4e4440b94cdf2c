-- The venue's service: the catalogue edited by the group's owners, each venue's
-- availability, shifts, stock counts, settings and the indexes of the sales summary.
--
-- Write flags (values of tenancy.Permission; tests/security/test_row_level_security.py keeps
-- them equal):
--   menu_items              EDIT_MENU 4, and the bound attachment's role is 'owner'
--   menu_item_availability  EDIT_MENU 4
--   stock_counts            EDIT_MENU 4
--   shifts                  open OPEN_SHIFT 64, close CLOSE_SHIFT 128, reopen REOPEN_SHIFT 256

-- --- the catalogue --------------------------------------------------------------------------

ALTER TABLE menu_items
    ADD COLUMN category text NOT NULL DEFAULT 'other'
        CHECK (length(category) BETWEEN 1 AND 80),
    ADD COLUMN allergens text[] NOT NULL DEFAULT '{}'
        -- The fourteen allergens of EU regulation 1169/2011, Annex II.
        -- (the names of tenancy.allergens).
        CHECK (allergens <@ ARRAY['celery', 'cereals_containing_gluten', 'crustaceans', 'eggs',
                                  'fish', 'lupin', 'milk', 'molluscs', 'mustard', 'tree_nuts',
                                  'peanuts', 'sesame', 'soya', 'sulphites']::text[]),
    ADD COLUMN active boolean NOT NULL DEFAULT true,
    ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now(),
    ADD CONSTRAINT menu_items_description_length CHECK (length(description) <= 1000);
CREATE INDEX menu_items_group ON menu_items (group_id, category, name);

-- Catalogue writes: the bound venue's group, EDIT_MENU, and the caller is an owner at the
-- bound venue (an owner of one venue of the group edits the group's catalogue; a manager
-- or a head chef with EDIT_MENU does not). The role is read from the caller's own
-- attachment, which the signed binding vouches for.
CREATE POLICY menu_items_insert ON menu_items FOR INSERT TO app_venue
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(4))
                AND EXISTS (SELECT 1 FROM venue_attachments a
                            WHERE a.venue_id = app.current_venue_id()
                              AND a.user_id = app.current_user_id() AND a.role = 'owner'));
CREATE POLICY menu_items_update ON menu_items FOR UPDATE TO app_venue
    USING (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
           AND (SELECT app.binding_allows(4))
           AND EXISTS (SELECT 1 FROM venue_attachments a
                       WHERE a.venue_id = app.current_venue_id()
                         AND a.user_id = app.current_user_id() AND a.role = 'owner'))
    WITH CHECK (group_id = (SELECT v.group_id FROM venues v WHERE v.id = app.current_venue_id())
                AND (SELECT app.binding_allows(4))
                AND EXISTS (SELECT 1 FROM venue_attachments a
                            WHERE a.venue_id = app.current_venue_id()
                              AND a.user_id = app.current_user_id() AND a.role = 'owner'));

-- Whether a catalogue item is on at one venue (no row: available).
CREATE TABLE menu_item_availability (
    venue_id    uuid NOT NULL,
    group_id    uuid NOT NULL,
    item_id     uuid NOT NULL,
    available   boolean NOT NULL,
    updated_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, item_id),
    FOREIGN KEY (venue_id, group_id) REFERENCES venues (id, group_id),
    FOREIGN KEY (item_id, group_id) REFERENCES menu_items (id, group_id)
);
ALTER TABLE menu_item_availability ENABLE ROW LEVEL SECURITY;
ALTER TABLE menu_item_availability FORCE ROW LEVEL SECURITY;
CREATE POLICY menu_item_availability_read ON menu_item_availability FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY menu_item_availability_insert ON menu_item_availability FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));
CREATE POLICY menu_item_availability_update ON menu_item_availability FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));
CREATE POLICY menu_item_availability_delete ON menu_item_availability FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));

-- --- shifts ---------------------------------------------------------------------------------

CREATE TABLE shifts (
    id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
    venue_id      uuid NOT NULL REFERENCES venues (id),
    opened_at     timestamptz NOT NULL DEFAULT now(),
    opened_by     uuid NOT NULL REFERENCES users (id),
    closed_at     timestamptz,
    closed_by     uuid REFERENCES users (id),
    reopened_at   timestamptz,
    reopened_by   uuid REFERENCES users (id),
    reopen_count  integer NOT NULL DEFAULT 0 CHECK (reopen_count >= 0),
    UNIQUE (id, venue_id),
    CHECK ((closed_at IS NULL) = (closed_by IS NULL)),
    CHECK (closed_at IS NULL OR closed_at >= opened_at)
);
-- One open shift per venue at a time.
CREATE UNIQUE INDEX shifts_one_open ON shifts (venue_id) WHERE closed_at IS NULL;
CREATE INDEX shifts_by_venue ON shifts (venue_id, opened_at DESC);

ALTER TABLE shifts ENABLE ROW LEVEL SECURITY;
ALTER TABLE shifts FORCE ROW LEVEL SECURITY;
CREATE POLICY shifts_read ON shifts FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY shifts_insert ON shifts FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND closed_at IS NULL
                AND (SELECT app.binding_allows(64)));
-- Closing leaves a closed row (CLOSE_SHIFT); reopening leaves an open one (REOPEN_SHIFT).
CREATE POLICY shifts_update ON shifts FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id()
           AND ((SELECT app.binding_allows(128)) OR (SELECT app.binding_allows(256))))
    WITH CHECK (venue_id = app.current_venue_id()
                AND CASE WHEN closed_at IS NULL THEN (SELECT app.binding_allows(256))
                         ELSE (SELECT app.binding_allows(128)) END);

-- Orders attach to the venue's shift (the tills create them); never another venue's shift.
ALTER TABLE orders
    ADD COLUMN shift_id uuid,
    ADD CONSTRAINT orders_shift FOREIGN KEY (shift_id, venue_id) REFERENCES shifts (id, venue_id);
CREATE INDEX orders_by_shift ON orders (shift_id) WHERE shift_id IS NOT NULL;

-- --- stock counts ---------------------------------------------------------------------------

-- One count per catalogue item per venue per day (the venue's own calendar day).
CREATE TABLE stock_counts (
    venue_id    uuid NOT NULL,
    group_id    uuid NOT NULL,
    item_id     uuid NOT NULL,
    count_date  date NOT NULL,
    quantity    integer NOT NULL CHECK (quantity BETWEEN 0 AND 1000000),
    counted_by  uuid NOT NULL REFERENCES users (id),
    counted_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (venue_id, count_date, item_id),
    FOREIGN KEY (venue_id, group_id) REFERENCES venues (id, group_id),
    FOREIGN KEY (item_id, group_id) REFERENCES menu_items (id, group_id)
);
ALTER TABLE stock_counts ENABLE ROW LEVEL SECURITY;
ALTER TABLE stock_counts FORCE ROW LEVEL SECURITY;
CREATE POLICY stock_counts_read ON stock_counts FOR SELECT TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(0)));
CREATE POLICY stock_counts_insert ON stock_counts FOR INSERT TO app_venue
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));
CREATE POLICY stock_counts_update ON stock_counts FOR UPDATE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)))
    WITH CHECK (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));
CREATE POLICY stock_counts_delete ON stock_counts FOR DELETE TO app_venue
    USING (venue_id = app.current_venue_id() AND (SELECT app.binding_allows(4)));

-- --- settings -------------------------------------------------------------------------------

ALTER TABLE venue_settings
    ADD COLUMN tip_policy text NOT NULL DEFAULT 'none'
        CHECK (tip_policy IN ('none', 'pooled', 'individual')),
    ADD COLUMN refund_alert_threshold_cents integer NOT NULL DEFAULT 5000
        CHECK (refund_alert_threshold_cents BETWEEN 0 AND 10000000),
    ADD COLUMN till_inactivity_timeout_seconds integer NOT NULL DEFAULT 300
        CHECK (till_inactivity_timeout_seconds BETWEEN 30 AND 3600);

-- --- the sales summary ----------------------------------------------------------------------

-- A venue's orders in a time range, with what the summary adds up (index-only scans).
CREATE INDEX orders_sales ON orders (venue_id, created_at)
    INCLUDE (id, status, total_cents, staff_member_id);
-- A venue's order lines with what the summary adds up.
CREATE INDEX order_items_sales ON order_items (venue_id, order_id)
    INCLUDE (item_id, name, quantity, unit_price_cents);

-- --- grants ---------------------------------------------------------------------------------

GRANT INSERT, UPDATE ON menu_items TO app_venue;
GRANT SELECT, INSERT, UPDATE, DELETE ON menu_item_availability, stock_counts TO app_venue;
GRANT SELECT, INSERT, UPDATE ON shifts TO app_venue;
