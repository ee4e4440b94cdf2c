"""GET /venues/{venue_id}/orders: the orders queue, newest first (a till shows it too)."""

from orders import queries
from orders.models import OrderQueue, OrderQueueQuery
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/orders",
    summary="The venue's orders queue",
    permission=Permission.VIEW_ORDERS,
    query=OrderQueueQuery,
    response=OrderQueue,
    till=True,
)
def handler(request: VenueRequest[OrderQueueQuery, NoBody]) -> JsonDocument:
    return queries.order_queue_json(
        request.db, request.venue_id, request.query.status, request.query.limit
    )
