"""POST /venues/{venue_id}/shifts/{shift_id}/reopen: reopen a closed shift."""

from shifts import logic
from shifts.models import Shift
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/shifts/{shift_id}/reopen",
    summary="Reopen a closed shift",
    permission=Permission.REOPEN_SHIFT,
    response=Shift,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Shift:
    return logic.reopen_shift(
        request.db,
        venue_id=request.venue_id,
        shift_id=request.path["shift_id"],
        actor_user_id=request.user_id,
    )
