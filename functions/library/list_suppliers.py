"""GET /venues/{venue_id}/suppliers: the group's supplier list."""

from library.logic import list_suppliers
from library.models import Suppliers
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/suppliers",
    summary="The group's supplier list",
    permission=Permission.EDIT_MENU,
    response=Suppliers,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Suppliers:
    return Suppliers(suppliers=list_suppliers(request.db))
