"""DELETE /me/mfa/totp: turn MFA off, proven with a current code."""

from auth import credentials
from auth.account_models import MfaRemoved, TotpCode
from auth.config import Issuer
from tenancy import DbRole, Need, NoQuery, UserRequest, user_route


@user_route(
    "DELETE",
    "/me/mfa/totp",
    summary="Remove the authenticator app (needs a current code)",
    database=DbRole.ISSUER,
    needs={Need.APP_KEYS},
    body=TotpCode,
    response=MfaRemoved,
)
def handler(request: UserRequest[NoQuery, TotpCode]) -> MfaRemoved:
    credentials.remove_totp(
        request.db,
        request.use(Issuer),
        user_id=request.user_id,
        code=request.body.code,
        source_ip=request.source_ip,
    )
    return MfaRemoved()
