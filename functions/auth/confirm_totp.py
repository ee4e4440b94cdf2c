"""POST /me/mfa/totp/confirm: the first code turns MFA on and returns recovery codes."""

from auth import credentials
from auth.account_models import RecoveryCodes, TotpCode
from auth.config import Issuer
from tenancy import DbRole, Need, NoQuery, UserRequest, user_route


@user_route(
    "POST",
    "/me/mfa/totp/confirm",
    summary="Confirm TOTP enrolment; returns 10 single-use recovery codes, shown once",
    database=DbRole.ISSUER,
    # Also what an admin who must enrol a second factor holds, and all it reaches.
    scope=("account", "mfa-enrolment"),
    needs={Need.APP_KEYS},
    body=TotpCode,
    response=RecoveryCodes,
)
def handler(request: UserRequest[NoQuery, TotpCode]) -> RecoveryCodes:
    codes = credentials.confirm_totp(
        request.db, request.use(Issuer), user_id=request.user_id, code=request.body.code
    )
    return RecoveryCodes(recovery_codes=codes)
