"""PUT /venues/{venue_id}/customers/{customer_id}/consent: whether this venue may see the
diner's visits at the group's other venues (recorded, or withdrawn, at the diner's word)."""

from customers.logic import change_consent
from customers.models import Consent, ConsentInput
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/customers/{customer_id}/consent",
    summary="Record or withdraw a diner's consent to the group's shared history",
    permission=Permission.TAKE_ORDERS,
    body=ConsentInput,
    response=Consent,
)
def handler(request: VenueRequest[NoQuery, ConsentInput]) -> Consent:
    return change_consent(
        request.db,
        venue_id=request.venue_id,
        diner_id=request.path["customer_id"],
        share=request.body.share_group_history,
        actor_user_id=request.user_id,
    )
