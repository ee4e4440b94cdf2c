"""POST /venues/{venue_id}/attachments: attach an account, by email, with a role; an email no
account has is invited (a link by mail, never in the answer)."""

from auth.config import Issuer
from auth.invitations import Inviter
from staff.logic import Actor, attach
from staff.models import Attachment, NewAttachment, flags_of
from tenancy import Need, NoQuery, Permission, VenueRequest, venue_route


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
        inviter=Inviter(lambda: request.use(Issuer)),
    )
