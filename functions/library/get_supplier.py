"""GET /venues/{venue_id}/suppliers/{supplier_id}: one supplier of the group."""

from library.logic import get_supplier
from library.models import Supplier
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/suppliers/{supplier_id}",
    summary="A supplier of the group",
    permission=Permission.EDIT_MENU,
    response=Supplier,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Supplier:
    return get_supplier(request.db, request.path["supplier_id"])
