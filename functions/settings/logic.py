"""A venue's settings: validated, changed field by field, audited before and after."""

import uuid

import psycopg

from settings import queries
from settings.models import EDITABLE, SettingsChange, VenueSettings
from tenancy.audit import record

#: The schema's defaults, for a venue whose settings were never written.
DEFAULTS = {
    "require_mfa_for_admins": False,
    "service_charge_bps": 0,
    "tip_policy": "none",
    "refund_alert_threshold_cents": 5000,
    "till_inactivity_timeout_seconds": 300,
}


def change_settings(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    change: SettingsChange,
    actor_user_id: uuid.UUID,
) -> VenueSettings:
    """Apply the patch. Changing ``require_mfa_for_admins`` is a critical audit event."""
    current, venue = queries.current_for_update(conn, venue_id)
    before = {key: (current or DEFAULTS)[key] for key in EDITABLE}
    after = {**before, **change.model_dump(exclude_unset=True)}
    changed = [key for key in EDITABLE if after[key] != before[key]]
    if changed:
        # The event goes first: once require_mfa_for_admins is on, a statement of this same
        # transaction would already ask the caller's session for a second factor.
        record(
            conn,
            action="settings.changed",
            venue_id=venue_id,
            actor_user_id=actor_user_id,
            target_type="venue_settings",
            target_id=venue_id,
            details={
                "before": {key: before[key] for key in changed},
                "after": {key: after[key] for key in changed},
            },
            critical="require_mfa_for_admins" in changed,
        )
        queries.write(conn, venue_id, after)
    return VenueSettings.model_validate(
        {
            **after,
            "timezone": venue["timezone"],
            "currency": venue["currency"],
            "updated_at": venue["now"],
        }
    )
