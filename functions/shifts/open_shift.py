"""POST /venues/{venue_id}/shifts: open the venue's shift."""

from shifts import logic
from shifts.models import Shift
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/shifts",
    summary="Open the venue's shift",
    permission=Permission.OPEN_SHIFT,
    response=Shift,
    status=201,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Shift:
    return logic.open_shift(request.db, venue_id=request.venue_id, actor_user_id=request.user_id)
