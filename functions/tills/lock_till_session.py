"""DELETE /venues/{venue_id}/till-sessions/current: lock the till (end its session)."""

from tenancy import NoBody, NoQuery, Problem, VenueRequest, venue_route
from tills.logic import lock


@venue_route(
    "DELETE",
    "/venues/{venue_id}/till-sessions/current",
    summary="Lock the till: end the calling till session",
    till=True,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> None:
    till = request.till_session
    if till is None or request.identity.session_id is None:
        raise Problem(403, "till-session-required", "only a till session can lock itself")
    lock(
        request.db,
        venue_id=request.venue_id,
        session_id=request.identity.session_id,
        staff_member_id=till.staff_member_id,
        client_id=request.identity.client_id,
        actor_user_id=request.actor_user_id,
    )
