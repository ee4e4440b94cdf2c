"""GET /venues/{venue_id}/menu: the group's catalogue with this venue's prices."""

from menus import queries
from menus.models import VenueMenu
from tenancy import JsonDocument, NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/menu",
    summary="The venue's menu: the group's active catalogue with this venue's prices",
    permission=Permission.VIEW_ORDERS,
    response=VenueMenu,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> JsonDocument:
    return queries.venue_menu_json(request.db, request.venue_id)
