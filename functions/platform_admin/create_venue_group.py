"""POST /platform/venue-groups: a new venue group (a brand with its menu catalogue)."""

from platform_admin.logic import create_group
from platform_admin.models import NewVenueGroup, VenueGroup
from tenancy import NoQuery, UserRequest, user_route


@user_route(
    "POST",
    "/platform/venue-groups",
    summary="Create a venue group (platform admins only)",
    body=NewVenueGroup,
    response=VenueGroup,
    status=201,
)
def handler(request: UserRequest[NoQuery, NewVenueGroup]) -> VenueGroup:
    return create_group(request)
