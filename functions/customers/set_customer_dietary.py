"""PUT /venues/{venue_id}/customers/{customer_id}/dietary: the diner's allergens and dietary
notes, replaced as a whole and stored sealed to the diner and this venue."""

from customers.config import DinerKeys
from customers.logic import set_dietary
from customers.models import DietaryRecord
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/customers/{customer_id}/dietary",
    summary="Record a diner's allergens and dietary notes",
    permission=Permission.TAKE_ORDERS,
    body=DietaryRecord,
    needs={Need.APP_KEYS},
)
def handler(request: VenueRequest[NoQuery, DietaryRecord]) -> None:
    set_dietary(
        request.db,
        request.use(DinerKeys).box,
        venue_id=request.venue_id,
        diner_id=request.path["customer_id"],
        dietary=request.body,
        actor_user_id=request.user_id,
    )
