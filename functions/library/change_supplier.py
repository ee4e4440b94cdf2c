"""PUT /venues/{venue_id}/suppliers/{supplier_id}: change a supplier of the group."""

from library.logic import change_supplier
from library.models import Supplier, SupplierContent
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/suppliers/{supplier_id}",
    summary="Change a supplier of the group",
    permission=Permission.MANAGE_GROUP,
    body=SupplierContent,
    response=Supplier,
)
def handler(request: VenueRequest[NoQuery, SupplierContent]) -> Supplier:
    return change_supplier(
        request.db,
        venue_id=request.venue_id,
        supplier_id=request.path["supplier_id"],
        supplier=request.body,
        actor_user_id=request.user_id,
    )
