"""POST /venues/{venue_id}/staff: a new member of the venue's staff."""

from staff.logic import Actor, add_staff_member
from staff.models import NewStaffMember, StaffMember
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/staff",
    summary="Add a member of staff (optionally linked to an attached account)",
    permission=Permission.MANAGE_STAFF,
    body=NewStaffMember,
    response=StaffMember,
    status=201,
)
def handler(request: VenueRequest[NoQuery, NewStaffMember]) -> StaffMember:
    body = request.body
    return add_staff_member(
        request.db,
        venue_id=request.venue_id,
        display_name=body.display_name,
        role=body.role,
        user_id=body.user_id,
        actor=Actor.of(request),
    )
