"""POST /webhooks/stripe/connect: Stripe's events about the venues' connected accounts
(payments, refunds, onboarding), signed with the Connect endpoint's secret."""

from tenancy import DbRole, Need, NoQuery, Request, public_route
from webhooks.ingress import Received, StripeDelivery, receive


@public_route(
    "POST",
    "/webhooks/stripe/connect",
    summary="Stripe's Connect events (signed; stored once, then processed)",
    body=StripeDelivery,
    response=Received,
    database=DbRole.WEBHOOK,
    needs=[Need.WEBHOOK_SECRETS, Need.WEBHOOK_QUEUE],
)
def handler(request: Request[NoQuery, StripeDelivery]) -> Received:
    return receive(request, "connect")
