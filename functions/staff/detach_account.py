"""DELETE /venues/{venue_id}/attachments/{user_id}: the account no longer acts here; given an
open invitation's id, the invitation is cancelled."""

from staff.logic import Actor, detach
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "DELETE",
    "/venues/{venue_id}/attachments/{user_id}",
    summary="Detach an account (effective on its next request), or cancel an invitation",
    permission=Permission.MANAGE_STAFF,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> None:
    detach(
        request.db,
        venue_id=request.venue_id,
        user_id=request.path["user_id"],
        actor=Actor.of(request),
    )
