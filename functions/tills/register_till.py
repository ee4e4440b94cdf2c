"""POST /venues/{venue_id}/tills: register a till device for this venue."""

from tenancy import NoQuery, Permission, VenueRequest, venue_route
from tills.logic import register_till
from tills.models import RegisteredTill, TillRegistration


@venue_route(
    "POST",
    "/venues/{venue_id}/tills",
    summary="Register a till for this venue (its client secret is shown once)",
    permission=Permission.MANAGE_STAFF,
    body=TillRegistration,
    response=RegisteredTill,
    status=201,
)
def handler(request: VenueRequest[NoQuery, TillRegistration]) -> RegisteredTill:
    return register_till(
        request.db,
        venue_id=request.venue_id,
        name=request.body.name,
        actor_user_id=request.user_id,
    )
