"""GET /venues/{venue_id}/shifts: the venue's shifts, newest first."""

from shifts import queries
from shifts.models import ShiftList, ShiftListQuery
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/shifts",
    summary="The venue's shifts, newest first",
    permission=Permission.VIEW_ORDERS,
    query=ShiftListQuery,
    response=ShiftList,
)
def handler(request: VenueRequest[ShiftListQuery, NoBody]) -> JsonDocument:
    return queries.shift_list_json(request.db, request.venue_id, request.query.limit)
