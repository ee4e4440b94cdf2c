"""POST /venues/{venue_id}/customers/{customer_id}/visits: a diner's visit to this venue."""

from customers.logic import record_visit
from customers.models import Visit, VisitInput
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/customers/{customer_id}/visits",
    summary="Record a diner's visit",
    permission=Permission.TAKE_ORDERS,
    body=VisitInput,
    response=Visit,
    status=201,
)
def handler(request: VenueRequest[NoQuery, VisitInput]) -> Visit:
    return record_visit(
        request.db,
        venue_id=request.venue_id,
        diner_id=request.path["customer_id"],
        visit=request.body,
        actor_user_id=request.user_id,
    )
