"""PATCH /venues/{venue_id}/settings: change some of the venue's settings."""

from settings.logic import change_settings
from settings.models import SettingsChange, VenueSettings
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PATCH",
    "/venues/{venue_id}/settings",
    summary="Change the venue's settings (a merge patch)",
    permission=Permission.MANAGE_SETTINGS,
    body=SettingsChange,
    response=VenueSettings,
)
def handler(request: VenueRequest[NoQuery, SettingsChange]) -> VenueSettings:
    return change_settings(
        request.db,
        venue_id=request.venue_id,
        change=request.body,
        actor_user_id=request.user_id,
    )
