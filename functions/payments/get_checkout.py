"""GET /venues/{venue_id}/checkouts/{checkout_id}: where a checkout stands (the till polls
it after Stripe's card form: ``placed`` names the order)."""

from payments import logic
from payments.models import CheckoutState
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/checkouts/{checkout_id}",
    summary="A checkout's state, and its order once Stripe confirmed the payment",
    permission=Permission.TAKE_ORDERS,
    response=CheckoutState,
    till=True,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> CheckoutState:
    return logic.checkout_state(request.db, request.venue_id, request.path["checkout_id"])
