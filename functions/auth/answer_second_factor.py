"""POST /oauth/authorize/mfa: the second factor of a sign-in that asked for one."""

from auth import signin
from auth.config import Issuer
from auth.models import Authorization, SecondFactor
from tenancy import DbRole, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize/mfa",
    summary="Complete a sign-in with a TOTP or recovery code",
    database=DbRole.ISSUER,
    needs={Need.APP_KEYS},
    body=SecondFactor,
    response=Authorization,
    errors="oauth",
)
def handler(request: Request[NoQuery, SecondFactor]) -> Authorization:
    return signin.second_factor(request.db, request.use(Issuer), request.body, request.source_ip)
