"""POST /platform/venues: a new venue in a group, with its first owner (an account, or an
invitation to the owner's email)."""

from platform_admin.logic import create_venue
from platform_admin.models import CreatedVenue, NewVenue
from tenancy import Need, NoQuery, UserRequest, user_route
from tenancy.invitations import Invitations


@user_route(
    "POST",
    "/platform/venues",
    summary="Create a venue in a group with its first owner (platform admins only)",
    body=NewVenue,
    response=CreatedVenue,
    status=201,
    needs={Need.MAIL},
)
def handler(request: UserRequest[NoQuery, NewVenue]) -> CreatedVenue:
    return create_venue(request, lambda: request.use(Invitations))
