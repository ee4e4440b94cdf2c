"""PUT /me/current-venue: the venue switcher remembers the venue the person picked."""

from account.logic import pick_current_venue
from account.models import CurrentVenue
from tenancy import NoQuery, UserRequest, user_route


@user_route(
    "PUT",
    "/me/current-venue",
    summary="Remember the venue picked in the switcher (one the caller may open)",
    body=CurrentVenue,
    response=CurrentVenue,
)
def handler(request: UserRequest[NoQuery, CurrentVenue]) -> CurrentVenue:
    return pick_current_venue(request)
