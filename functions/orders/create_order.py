"""POST /venues/{venue_id}/orders: take an order (a till session, or someone in the admin
app with TAKE_ORDERS)."""

from orders import logic
from orders.models import NewOrder, OrderDetail
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/orders",
    summary="Take an order at the venue's open shift",
    permission=Permission.TAKE_ORDERS,
    body=NewOrder,
    response=OrderDetail,
    status=201,
    till=True,
)
def handler(request: VenueRequest[NoQuery, NewOrder]) -> OrderDetail:
    till = request.till_session
    return logic.create_order(
        request.db,
        venue_id=request.venue_id,
        order=request.body,
        staff_member_id=till.staff_member_id if till is not None else None,
        user_id=request.identity.user_id,
    )
