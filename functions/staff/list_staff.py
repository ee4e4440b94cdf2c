"""GET /venues/{venue_id}/staff: the venue's staff roster."""

from staff import queries
from staff.models import StaffQuery, StaffRoster
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/staff",
    summary="The venue's staff roster (active members, or everyone)",
    permission=Permission.MANAGE_STAFF,
    query=StaffQuery,
    response=StaffRoster,
)
def handler(request: VenueRequest[StaffQuery, NoBody]) -> JsonDocument:
    return queries.staff_roster_json(
        request.db, request.venue_id, everyone=request.query.include_inactive
    )
