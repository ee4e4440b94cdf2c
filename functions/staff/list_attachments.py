"""GET /venues/{venue_id}/attachments: who may act at the venue, with which role and flags,
and the invitations still open."""

from staff import queries
from staff.models import Attachments
from tenancy import JsonDocument, NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/attachments",
    summary="The accounts attached to the venue and open invitations, with roles and flags",
    permission=Permission.MANAGE_STAFF,
    response=Attachments,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> JsonDocument:
    return queries.attachments_json(request.db, request.venue_id)
