"""POST /venues/{venue_id}/customers: this venue's diner with this email or phone, created
when there is none (the same person has the same identity at every venue)."""

from customers.config import DinerKeys
from customers.logic import find_or_create
from customers.models import Customer, CustomerLookup
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/customers",
    summary="Find this venue's diner by email or phone, or create them",
    permission=Permission.TAKE_ORDERS,
    body=CustomerLookup,
    response=Customer,
    needs={Need.IDENTITY_SALT},
)
def handler(request: VenueRequest[NoQuery, CustomerLookup]) -> Customer:
    return find_or_create(
        request.db,
        request.use(DinerKeys).identity,
        venue_id=request.venue_id,
        lookup=request.body,
        actor_user_id=request.user_id,
    )
