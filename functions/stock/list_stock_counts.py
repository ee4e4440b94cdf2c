"""GET /venues/{venue_id}/stock-counts: the day's stock counts at this venue."""

from stock import queries
from stock.models import StockCounts, StockCountsQuery
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/stock-counts",
    summary="The stock counts of a day (today by default) at this venue",
    permission=Permission.VIEW_ORDERS,
    query=StockCountsQuery,
    response=StockCounts,
)
def handler(request: VenueRequest[StockCountsQuery, NoBody]) -> JsonDocument:
    return queries.counts_json(request.db, request.venue_id, request.query.day)
