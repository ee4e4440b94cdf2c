"""PUT /venues/{venue_id}/menu/items/{item_id}/availability: whether this venue serves a
catalogue item (other venues keep theirs)."""

from menus.logic import set_availability
from menus.models import AvailabilityChange, ItemAvailability
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/menu/items/{item_id}/availability",
    summary="Turn a catalogue item on or off at this venue",
    permission=Permission.EDIT_MENU,
    body=AvailabilityChange,
    response=ItemAvailability,
)
def handler(request: VenueRequest[NoQuery, AvailabilityChange]) -> ItemAvailability:
    return set_availability(
        request.db,
        venue_id=request.venue_id,
        item_id=request.path["item_id"],
        available=request.body.available,
        actor_user_id=request.user_id,
    )
