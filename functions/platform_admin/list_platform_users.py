"""GET /platform/users: the platform's accounts, who holds the platform-admin flag, who is
disabled."""

from platform_admin.logic import list_users
from platform_admin.models import PlatformUsers, PlatformUsersQuery
from tenancy import JsonDocument, NoBody, UserRequest, user_route


@user_route(
    "GET",
    "/platform/users",
    summary="The platform's accounts, a page at a time by email (platform admins only)",
    query=PlatformUsersQuery,
    response=PlatformUsers,
)
def handler(request: UserRequest[PlatformUsersQuery, NoBody]) -> JsonDocument:
    return list_users(request)
