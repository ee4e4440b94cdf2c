"""POST /oauth/userinfo: the same UserInfo by POST, which OpenID Connect Core §5.3.1 asks
every provider to accept (the token in the Authorization header, no body)."""

from auth.userinfo import user_info
from auth.userinfo_models import UserInfo
from tenancy import DbRole, JsonDocument, NoBody, NoQuery, UserRequest, user_route


@user_route(
    "POST",
    "/oauth/userinfo",
    summary="Who signed in (OpenID Connect UserInfo, by POST)",
    database=DbRole.ISSUER,
    scope="openid",
    response=UserInfo,
)
def handler(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    return user_info(request)
