"""POST /venues/{venue_id}/invoices/{invoice_id}/credit-notes: correct an invoice in full
with a credit note (an invoice is never edited)."""

from orders import invoicing
from orders.models import CreditNoteRequest, Invoice
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/invoices/{invoice_id}/credit-notes",
    summary="Correct an invoice with a credit note",
    permission=Permission.REFUND,
    body=CreditNoteRequest,
    response=Invoice,
    status=201,
)
def handler(request: VenueRequest[NoQuery, CreditNoteRequest]) -> Invoice:
    return invoicing.credit(
        request.db,
        venue_id=request.venue_id,
        invoice_id=request.path["invoice_id"],
        reason=request.body.reason,
        actor_user_id=request.actor_user_id,
    )
