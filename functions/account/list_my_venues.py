"""GET /me/venues: the venue switcher."""

from account.logic import venue_choices
from account.models import VenueChoices
from tenancy import JsonDocument, NoBody, NoQuery, UserRequest, user_route


@user_route("GET", "/me/venues", summary="Venues the caller may switch to", response=VenueChoices)
def handler(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    return venue_choices(request)
