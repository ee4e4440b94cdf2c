"""POST /venues/{venue_id}/payments/onboarding-link: a Stripe account link where a manager
finishes the venue's onboarding (identity, bank account) on Stripe's own pages."""

from payments import logic
from payments.models import OnboardingLink, OnboardingLinkRequest
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route
from tenancy.payments import StripeApi


@venue_route(
    "POST",
    "/venues/{venue_id}/payments/onboarding-link",
    summary="A link to the venue's onboarding on Stripe (single use, expires in minutes)",
    permission=Permission.MANAGE_PAYMENTS,
    body=OnboardingLinkRequest,
    response=OnboardingLink,
    status=201,
    needs=[Need.STRIPE_API],
)
def handler(request: VenueRequest[NoQuery, OnboardingLinkRequest]) -> OnboardingLink:
    return logic.onboarding_link(
        request.db, request.use(StripeApi), venue_id=request.venue_id, urls=request.body
    )
