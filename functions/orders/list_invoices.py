"""GET /venues/{venue_id}/invoices: the venue's tax invoices and credit notes, newest first."""

from orders import invoicing
from orders.models import InvoiceList, InvoiceQuery
from tenancy import JsonDocument, NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/invoices",
    summary="The venue's invoices and credit notes",
    permission=Permission.VIEW_SALES,
    query=InvoiceQuery,
    response=InvoiceList,
)
def handler(request: VenueRequest[InvoiceQuery, NoBody]) -> JsonDocument:
    query = request.query
    return invoicing.invoice_list_json(
        request.db, request.venue_id, year=query.fiscal_year, kind=query.kind, limit=query.limit
    )
