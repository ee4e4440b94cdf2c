"""PATCH /venues/{venue_id}/staff/{staff_id}: rename, another role, link or unlink an
account, deactivate (``active: false``) or reactivate."""

from staff.logic import Actor, change_staff_member
from staff.models import StaffMember, StaffMemberChange
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PATCH",
    "/venues/{venue_id}/staff/{staff_id}",
    summary="Change a member of staff; active=false deactivates them",
    permission=Permission.MANAGE_STAFF,
    body=StaffMemberChange,
    response=StaffMember,
)
def handler(request: VenueRequest[NoQuery, StaffMemberChange]) -> StaffMember:
    body = request.body
    return change_staff_member(
        request.db,
        venue_id=request.venue_id,
        staff_id=request.path["staff_id"],
        changes={name: getattr(body, name) for name in body.model_fields_set},
        actor=Actor.of(request),
    )
