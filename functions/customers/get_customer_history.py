"""GET /venues/{venue_id}/customers/{customer_id}/history: the diner's visits here, and at
the group's other venues while the diner's consent recorded here is active."""

from customers.logic import read_history
from customers.models import CustomerHistory
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/customers/{customer_id}/history",
    summary="A diner's visits (the group's other venues under the diner's consent)",
    permission=Permission.VIEW_ORDERS,
    response=CustomerHistory,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> CustomerHistory:
    return read_history(request.db, venue_id=request.venue_id, diner_id=request.path["customer_id"])
