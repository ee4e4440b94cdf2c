"""POST /venues/{venue_id}/catalogue/items: a new item of the venue's group catalogue."""

from menus.logic import add_catalogue_item
from menus.models import CatalogueItem, NewCatalogueItem
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/catalogue/items",
    summary="Add an item to the group's catalogue (an owner at this venue)",
    permission=Permission.EDIT_MENU,
    body=NewCatalogueItem,
    response=CatalogueItem,
    status=201,
)
def handler(request: VenueRequest[NoQuery, NewCatalogueItem]) -> CatalogueItem:
    return add_catalogue_item(
        request.db,
        venue_id=request.venue_id,
        item=request.body,
        actor_user_id=request.user_id,
        caller_role=lambda: request.venue.role,
    )
