"""POST /venues/{venue_id}/suppliers: add a supplier to the group's list."""

from library.logic import create_supplier
from library.models import Supplier, SupplierContent
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/suppliers",
    summary="Add a supplier to the group's list",
    permission=Permission.MANAGE_GROUP,
    body=SupplierContent,
    response=Supplier,
    status=201,
)
def handler(request: VenueRequest[NoQuery, SupplierContent]) -> Supplier:
    return create_supplier(
        request.db, venue_id=request.venue_id, supplier=request.body, actor_user_id=request.user_id
    )
