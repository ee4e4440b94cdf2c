"""GET /oauth/userinfo: OpenID Connect's UserInfo endpoint."""

from auth.userinfo import user_info
from auth.userinfo_models import UserInfo
from tenancy import DbRole, JsonDocument, NoBody, NoQuery, UserRequest, user_route


@user_route(
    "GET",
    "/oauth/userinfo",
    summary="Who signed in (OpenID Connect UserInfo)",
    database=DbRole.ISSUER,
    scope="openid",
    response=UserInfo,
)
def handler(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    return user_info(request)
