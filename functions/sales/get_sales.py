"""GET /venues/{venue_id}/sales?from=&to=: the venue's sales by day, item and staff member."""

from sales import queries
from sales.models import SalesQuery, SalesSummary
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/sales",
    summary="Sales totals by day, item and staff member, in the venue's time zone",
    permission=Permission.VIEW_SALES,
    query=SalesQuery,
    response=SalesSummary,
)
def handler(request: VenueRequest[SalesQuery, NoBody]) -> JsonDocument:
    return queries.summary_json(request.db, request.venue_id, request.query.from_, request.query.to)
