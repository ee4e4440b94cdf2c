"""GET /venues/{venue_id}/orders/{order_id}: one order with its lines."""

from orders import queries
from orders.models import OrderDetail
from tenancy import JsonDocument, NoBody, NoQuery, Permission, VenueRequest, not_found, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/orders/{order_id}",
    summary="One order of the venue",
    permission=Permission.VIEW_ORDERS,
    response=OrderDetail,
    till=True,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> JsonDocument:
    found = queries.order_detail_json(request.db, request.venue_id, request.path["order_id"])
    if found is None:
        raise not_found("order")
    return found
