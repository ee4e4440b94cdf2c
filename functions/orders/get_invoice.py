"""GET /venues/{venue_id}/invoices/{invoice_id}: one invoice or credit note."""

from orders import invoicing
from orders.models import Invoice
from tenancy import JsonDocument, NoBody, NoQuery, Permission, VenueRequest, not_found, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/invoices/{invoice_id}",
    summary="One invoice or credit note of the venue",
    permission=Permission.VIEW_SALES,
    response=Invoice,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> JsonDocument:
    found = invoicing.invoice_json(request.db, request.venue_id, request.path["invoice_id"])
    if found is None:
        raise not_found("invoice")
    return found
