"""POST /venues/{venue_id}/payments/account: the venue's Stripe Express account."""

from payments import logic
from payments.models import PaymentStatus
from tenancy import Need, NoBody, NoQuery, Permission, VenueRequest, venue_route
from tenancy.payments import StripeApi


@venue_route(
    "POST",
    "/venues/{venue_id}/payments/account",
    summary="Create the venue's Stripe Express account (once; the same answer after)",
    permission=Permission.MANAGE_PAYMENTS,
    response=PaymentStatus,
    status=201,
    needs=[Need.STRIPE_API],
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> PaymentStatus:
    return logic.create_account(
        request.db,
        request.use(StripeApi),
        venue_id=request.venue_id,
        actor_user_id=request.actor_user_id,
    )
