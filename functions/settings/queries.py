"""SQL of the settings area."""

import uuid
from typing import Any

import psycopg
from psycopg.rows import dict_row

from tenancy import JsonDocument

_COLUMNS = (
    "require_mfa_for_admins, service_charge_bps, tip_policy, refund_alert_threshold_cents,"
    " till_inactivity_timeout_seconds"
)

# The settings as one JSON document shaped like ``VenueSettings``; a venue without a row yet
# has the defaults of the schema.
SETTINGS = f"""
SELECT json_build_object(
    'require_mfa_for_admins', coalesce(s.require_mfa_for_admins, false),
    'service_charge_bps', coalesce(s.service_charge_bps, 0),
    'tip_policy', coalesce(s.tip_policy, 'none'),
    'refund_alert_threshold_cents', coalesce(s.refund_alert_threshold_cents, 5000),
    'till_inactivity_timeout_seconds', coalesce(s.till_inactivity_timeout_seconds, 300),
    'timezone', v.timezone,
    'currency', trim(v.currency),
    'updated_at', coalesce(s.updated_at, v.created_at))::text
FROM venues v
LEFT JOIN (SELECT venue_id, {_COLUMNS}, updated_at FROM venue_settings) s ON s.venue_id = v.id
WHERE v.id = %(venue)s
"""

CURRENT_FOR_UPDATE = f"""
SELECT {_COLUMNS} FROM venue_settings WHERE venue_id = %(venue)s FOR UPDATE
"""

VENUE = """
SELECT v.timezone, trim(v.currency) AS currency, now() AS now FROM venues v WHERE v.id = %(venue)s
"""

WRITE = f"""
INSERT INTO venue_settings (venue_id, {_COLUMNS}, updated_at)
VALUES (%(venue)s, %(require_mfa_for_admins)s, %(service_charge_bps)s, %(tip_policy)s,
        %(refund_alert_threshold_cents)s, %(till_inactivity_timeout_seconds)s, now())
ON CONFLICT (venue_id) DO UPDATE SET
    require_mfa_for_admins = EXCLUDED.require_mfa_for_admins,
    service_charge_bps = EXCLUDED.service_charge_bps,
    tip_policy = EXCLUDED.tip_policy,
    refund_alert_threshold_cents = EXCLUDED.refund_alert_threshold_cents,
    till_inactivity_timeout_seconds = EXCLUDED.till_inactivity_timeout_seconds,
    updated_at = now()
"""


def settings_json(conn: psycopg.Connection, venue_id: uuid.UUID) -> JsonDocument:
    row = conn.execute(SETTINGS, {"venue": venue_id}).fetchone()
    assert row is not None
    return JsonDocument(row[0])


def current_for_update(
    conn: psycopg.Connection, venue_id: uuid.UUID
) -> tuple[dict[str, Any] | None, dict[str, Any]]:
    """(the settings row locked, or None before the first change; the venue's zone, currency
    and the transaction's timestamp), both in one trip."""
    params = {"venue": venue_id}
    settings = conn.cursor(row_factory=dict_row).execute(CURRENT_FOR_UPDATE, params)
    venue = conn.cursor(row_factory=dict_row).execute(VENUE, params)
    current = settings.fetchone()
    found = venue.fetchone()
    assert found is not None
    return current, found


def write(conn: psycopg.Connection, venue_id: uuid.UUID, values: dict[str, Any]) -> None:
    conn.execute(WRITE, {"venue": venue_id, **values})
