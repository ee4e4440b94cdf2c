"""POST /venues/{venue_id}/attachments: attach an existing account, by email, with a role."""

from staff.logic import Actor, attach
from staff.models import Attachment, NewAttachment, flags_of
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/attachments",
    summary="Attach an existing account to the venue with a role (and flags)",
    permission=Permission.MANAGE_STAFF,
    body=NewAttachment,
    response=Attachment,
    status=201,
)
def handler(request: VenueRequest[NoQuery, NewAttachment]) -> Attachment:
    body = request.body
    return attach(
        request.db,
        venue_id=request.venue_id,
        email=body.email,
        role=body.role,
        permissions=None if body.permissions is None else flags_of(body.permissions),
        actor=Actor.of(request),
    )
