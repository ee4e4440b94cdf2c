"""DELETE /me/mfa/totp: turn MFA off, proven with a current code."""

from auth import service
from auth.config import current_issuer
from auth.models import MfaRemoved, TotpCode
from tenancy import DbRole, NoQuery, UserRequest, user_route


@user_route(
    "DELETE",
    "/me/mfa/totp",
    summary="Remove the authenticator app (needs a current code)",
    database=DbRole.ISSUER,
    body=TotpCode,
    response=MfaRemoved,
)
def handler(request: UserRequest[NoQuery, TotpCode]) -> MfaRemoved:
    service.remove_totp(
        request.db,
        current_issuer(),
        user_id=request.user_id,
        is_platform_admin=request.is_platform_admin,
        code=request.body.code,
    )
    return MfaRemoved()
