"""PATCH /venues/{venue_id}/catalogue/items/{item_id}: change an item of the group's
catalogue (every venue of the group sees it)."""

from menus.logic import change_catalogue_item
from menus.models import CatalogueItem, CatalogueItemChange
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PATCH",
    "/venues/{venue_id}/catalogue/items/{item_id}",
    summary="Change an item of the group's catalogue (an owner at this venue)",
    permission=Permission.EDIT_MENU,
    body=CatalogueItemChange,
    response=CatalogueItem,
)
def handler(request: VenueRequest[NoQuery, CatalogueItemChange]) -> CatalogueItem:
    return change_catalogue_item(
        request.db,
        venue_id=request.venue_id,
        item_id=request.path["item_id"],
        change=request.body,
        actor_user_id=request.user_id,
        caller_role=lambda: request.venue.role,
    )
