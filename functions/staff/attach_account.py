"""POST /venues/{venue_id}/attachments: attach an account, by email, with a role; an email no
account has is invited (a link by mail, never in the answer)."""

from staff.logic import Actor, attach
from staff.models import Attachment, NewAttachment, flags_of
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route
from tenancy.invitations import Invitations


@venue_route(
    "POST",
    "/venues/{venue_id}/attachments",
    summary="Attach an account to the venue with a role (and flags), or invite its email",
    permission=Permission.MANAGE_STAFF,
    body=NewAttachment,
    response=Attachment,
    status=201,
    needs={Need.MAIL},
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
        invitations=lambda: request.use(Invitations),
    )
