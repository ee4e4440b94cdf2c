"""PATCH /platform/users/{user_id}: disable an account, or enable it again."""

from platform_admin.logic import set_account_status
from platform_admin.models import AccountStatus, PlatformUser
from tenancy import NoQuery, UserRequest, user_route


@user_route(
    "PATCH",
    "/platform/users/{user_id}",
    summary="Disable or re-enable an account (platform admins only)",
    body=AccountStatus,
    response=PlatformUser,
)
def handler(request: UserRequest[NoQuery, AccountStatus]) -> PlatformUser:
    return set_account_status(request)
