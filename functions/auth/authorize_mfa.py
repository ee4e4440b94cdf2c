"""POST /oauth/authorize/mfa: the second factor of a sign-in that asked for one."""

from auth import service
from auth.config import current_issuer
from auth.models import Authorization, SecondFactor
from tenancy import DbRole, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize/mfa",
    summary="Complete a sign-in with a TOTP or recovery code",
    database=DbRole.ISSUER,
    body=SecondFactor,
    response=Authorization,
    errors="oauth",
)
def handler(request: Request[NoQuery, SecondFactor]) -> Authorization:
    return service.second_factor(request.db, current_issuer(), request.body, request.source_ip)
