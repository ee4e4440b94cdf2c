"""PATCH /venues/{venue_id}/attachments/{user_id}: another role or other flags."""

from staff.logic import Actor, change_attachment
from staff.models import Attachment, AttachmentChange, flags_of
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PATCH",
    "/venues/{venue_id}/attachments/{user_id}",
    summary="Change an attached account's role or flags at the venue",
    permission=Permission.MANAGE_STAFF,
    body=AttachmentChange,
    response=Attachment,
)
def handler(request: VenueRequest[NoQuery, AttachmentChange]) -> Attachment:
    body = request.body
    return change_attachment(
        request.db,
        venue_id=request.venue_id,
        user_id=request.path["user_id"],
        role=body.role,
        permissions=None if body.permissions is None else flags_of(body.permissions),
        actor=Actor.of(request),
    )
