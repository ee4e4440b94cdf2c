"""GET /venues/{venue_id}/payments/status: whether the venue can take card payments and
receive payouts, as Stripe's ``account.updated`` events last said."""

from payments import logic
from payments.models import PaymentStatus
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/payments/status",
    summary="The venue's payment account: charges and payouts enabled",
    permission=Permission.MANAGE_PAYMENTS,
    response=PaymentStatus,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> PaymentStatus:
    return logic.status(request.db, request.venue_id)
