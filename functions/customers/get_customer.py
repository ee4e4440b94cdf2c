"""GET /venues/{venue_id}/customers/{customer_id}: a diner of this venue; their allergens
and dietary notes for those who cook (EDIT_MENU) only, never for the platform-admin
override."""

from customers.config import DinerKeys
from customers.logic import read_detail
from customers.models import CustomerDetail
from tenancy import Need, NoBody, NoQuery, Permission, VenueRequest, venue_route
from tenancy.sealing import SealedBox

#: Who needs to know a diner's allergens: the kitchen (and those who run it).
NEED_TO_KNOW = Permission.EDIT_MENU


@venue_route(
    "GET",
    "/venues/{venue_id}/customers/{customer_id}",
    summary="A diner of this venue (allergens for kitchen roles only)",
    permission=Permission.VIEW_ORDERS,
    response=CustomerDetail,
    needs={Need.APP_KEYS},
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> CustomerDetail:
    def box_for_caller() -> SealedBox | None:
        # Platform operations pass the gate with every flag, but have no need to know.
        access = request.venue
        if NEED_TO_KNOW in access.permissions and not access.as_platform_admin:
            return request.use(DinerKeys).box
        return None

    return read_detail(
        request.db,
        box_for_caller,
        venue_id=request.venue_id,
        diner_id=request.path["customer_id"],
    )
