"""GET /venues/{venue_id}/audit: the venue's audit trail, newest first (VIEW_AUDIT)."""

from audit import queries
from audit.models import AuditPage, AuditQuery
from tenancy import NoBody, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/audit",
    summary="The venue's audit trail, newest first, filtered by actor, action and day",
    permission=Permission.VIEW_AUDIT,
    query=AuditQuery,
    response=AuditPage,
)
def handler(request: VenueRequest[AuditQuery, NoBody]) -> AuditPage:
    return queries.venue_page(request.db, request.venue_id, request.query)
