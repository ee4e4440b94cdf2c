"""POST /venues/{venue_id}/checkouts: start paying for an online order. Staff-facing (a till
or the admin app takes the diner's order and shows Stripe's card form): the venue gate and
TAKE_ORDERS apply as to any order. The answer is the PaymentIntent's client secret only;
the order is placed when Stripe's signed webhook confirms the payment."""

from payments import logic
from payments.models import CheckoutStarted, NewCheckout
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route
from tenancy.payments import StripeApi


@venue_route(
    "POST",
    "/venues/{venue_id}/checkouts",
    summary="Start a card payment for an order (placed once Stripe confirms it)",
    permission=Permission.TAKE_ORDERS,
    body=NewCheckout,
    response=CheckoutStarted,
    status=201,
    needs=[Need.STRIPE_API],
    till=True,
)
def handler(request: VenueRequest[NoQuery, NewCheckout]) -> CheckoutStarted:
    return logic.start_checkout(
        request.db,
        request.use(StripeApi),
        venue_id=request.venue_id,
        checkout=request.body,
        user_id=request.identity.user_id,
    )
