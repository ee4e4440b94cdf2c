"""POST /venues/{venue_id}/orders/{order_id}/transitions: move an order along the state
machine (orders.states), or cancel it with a reason."""

from orders import logic
from orders.models import OrderMoved, OrderTransition
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/orders/{order_id}/transitions",
    summary="Move an order to its next state, or cancel it",
    permission=Permission.TAKE_ORDERS,
    body=OrderTransition,
    response=OrderMoved,
    till=True,
)
def handler(request: VenueRequest[NoQuery, OrderTransition]) -> OrderMoved:
    till = request.till_session
    return logic.move_order(
        request.db,
        venue_id=request.venue_id,
        order_id=request.path["order_id"],
        action=request.body.action,
        reason=request.body.reason,
        # Asked after the order's row is queued: the gate's answer arrives with it.
        held=lambda: request.venue.permissions,
        actor_user_id=lambda: request.actor_user_id,
        staff_member_id=till.staff_member_id if till is not None else None,
    )
