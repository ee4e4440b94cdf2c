"""PATCH /venues/{venue_id}/menu/items/{item_id}: this venue's price of a catalogue item."""

from menus.logic import change_price
from menus.models import PriceChange, VenueMenuItem
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PATCH",
    "/venues/{venue_id}/menu/items/{item_id}",
    summary="Set a catalogue item's price at this venue",
    permission=Permission.EDIT_PRICES,
    body=PriceChange,
    response=VenueMenuItem,
)
def handler(request: VenueRequest[NoQuery, PriceChange]) -> VenueMenuItem:
    return change_price(
        request.db,
        venue_id=request.venue_id,
        item_id=request.path["item_id"],
        price_cents=request.body.price_cents,
        actor_user_id=request.user_id,
    )
