"""GET /platform/venues: every venue of the platform, with its group."""

from platform_admin.logic import list_venues
from platform_admin.models import PlatformVenues
from tenancy import JsonDocument, NoBody, NoQuery, UserRequest, user_route


@user_route(
    "GET",
    "/platform/venues",
    summary="Every venue of the platform (platform admins only)",
    response=PlatformVenues,
)
def handler(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    return list_venues(request)
