"""GET /venues/{venue_id}/settings: the venue's settings."""

from settings import queries
from settings.models import VenueSettings
from tenancy import JsonDocument, NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/settings",
    summary="The venue's settings",
    permission=Permission.MANAGE_SETTINGS,
    response=VenueSettings,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> JsonDocument:
    return queries.settings_json(request.db, request.venue_id)
