import datetime as dt
from typing import Literal, Self

from pydantic import BaseModel, Field, model_validator

from tenancy import StrictBody

TipPolicy = Literal["none", "pooled", "individual"]

#: The settings a venue may change, with their limits (the schema checks the same).
EDITABLE = (
    "require_mfa_for_admins",
    "service_charge_bps",
    "tip_policy",
    "refund_alert_threshold_cents",
    "till_inactivity_timeout_seconds",
)


class VenueSettings(BaseModel):
    """A venue's settings; ``timezone`` and ``currency`` are the venue's own (read only)."""

    #: Owners, regional managers and managers need a second factor here.
    require_mfa_for_admins: bool
    #: Service charge in basis points (1250 = 12.5 %).
    service_charge_bps: int = Field(ge=0, le=5000)
    tip_policy: TipPolicy
    #: A refund at or above this amount raises an alert.
    refund_alert_threshold_cents: int = Field(ge=0, le=10_000_000)
    #: A till session ends after this many seconds without use.
    till_inactivity_timeout_seconds: int = Field(ge=30, le=3600)
    timezone: str
    currency: str
    updated_at: dt.datetime


class SettingsChange(StrictBody):
    """A merge patch of the venue's settings: the fields sent change, the others stay."""

    require_mfa_for_admins: bool | None = None
    service_charge_bps: int | None = Field(default=None, ge=0, le=5000)
    tip_policy: TipPolicy | None = None
    refund_alert_threshold_cents: int | None = Field(default=None, ge=0, le=10_000_000)
    till_inactivity_timeout_seconds: int | None = Field(default=None, ge=30, le=3600)

    @model_validator(mode="after")
    def _something_and_no_nulls(self) -> Self:
        if not self.model_fields_set:
            raise ValueError("send at least one setting to change")
        removed = sorted(f for f in self.model_fields_set if getattr(self, f) is None)
        if removed:
            raise ValueError(f"these settings cannot be removed: {', '.join(removed)}")
        return self
