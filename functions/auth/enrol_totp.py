"""POST /me/mfa/totp: start setting up an authenticator app."""

from auth import credentials, queries
from auth.account_models import TotpEnrolment
from auth.config import Issuer
from tenancy import DbRole, Need, NoBody, NoQuery, UserRequest, user_route


@user_route(
    "POST",
    "/me/mfa/totp",
    summary="Start TOTP enrolment",
    database=DbRole.ISSUER,
    # Also what an admin who must enrol a second factor holds, and all it reaches.
    scope=("account", "mfa-enrolment"),
    needs={Need.APP_KEYS},
    response=TotpEnrolment,
    status=201,
)
def handler(request: UserRequest[NoQuery, NoBody]) -> TotpEnrolment:
    profile = queries.user_by_id(request.db, request.user_id)
    assert profile is not None
    secret, uri = credentials.start_totp(
        request.db, request.use(Issuer), user_id=request.user_id, email=profile["email"]
    )
    return TotpEnrolment(secret=secret, otpauth_uri=uri)
