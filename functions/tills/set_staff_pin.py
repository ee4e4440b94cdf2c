"""PUT /venues/{venue_id}/staff/{staff_id}/pin: set or reset a staff member's till PIN."""

from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route
from tenancy.pins import PinPepper
from tills.logic import set_pin
from tills.models import PinChange, PinSet


@venue_route(
    "PUT",
    "/venues/{venue_id}/staff/{staff_id}/pin",
    summary="Set or reset a staff member's till PIN (never shown again)",
    permission=Permission.MANAGE_STAFF,
    needs={Need.PIN_PEPPER},
    body=PinChange,
    response=PinSet,
)
def handler(request: VenueRequest[NoQuery, PinChange]) -> PinSet:
    return set_pin(
        request.db,
        request.use(PinPepper),
        venue_id=request.venue_id,
        staff_id=request.path["staff_id"],
        pin=request.body.pin,
        actor_user_id=request.user_id,
    )
