"""POST /venues/{venue_id}/orders/{order_id}/refunds: refund part or all of an online
order's payment through Stripe (confirmed by the webhook)."""

from payments import logic
from payments.models import NewRefund, Refund
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route
from tenancy.payments import StripeApi


@venue_route(
    "POST",
    "/venues/{venue_id}/orders/{order_id}/refunds",
    summary="Refund an online order's payment, up to what remains",
    permission=Permission.REFUND,
    body=NewRefund,
    response=Refund,
    status=201,
    needs=[Need.STRIPE_API],
)
def handler(request: VenueRequest[NoQuery, NewRefund]) -> Refund:
    return logic.refund(
        request.db,
        request.use(StripeApi),
        venue_id=request.venue_id,
        order_id=request.path["order_id"],
        asked=request.body,
        actor_user_id=lambda: request.actor_user_id,
    )
