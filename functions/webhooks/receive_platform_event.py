"""POST /webhooks/stripe: Stripe's events about the platform's own account, signed with
the platform endpoint's secret."""

from tenancy import DbRole, Need, NoQuery, Request, public_route
from webhooks.ingress import Received, StripeDelivery, receive


@public_route(
    "POST",
    "/webhooks/stripe",
    summary="Stripe's platform events (signed; stored once, then processed)",
    body=StripeDelivery,
    response=Received,
    database=DbRole.WEBHOOK,
    needs=[Need.WEBHOOK_SECRETS, Need.WEBHOOK_QUEUE],
)
def handler(request: Request[NoQuery, StripeDelivery]) -> Received:
    return receive(request, "platform")
