"""POST /oauth/revoke (RFC 7009): sign out a session by its refresh token."""

from auth import service
from auth.models import Revocation, Revoked
from tenancy import DbRole, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/revoke",
    summary="Revoke a refresh token and its session",
    database=DbRole.ISSUER,
    body=Revocation,
    response=Revoked,
    errors="oauth",
)
def handler(request: Request[NoQuery, Revocation]) -> Revoked:
    service.revoke(request.db, request.body.token)
    return Revoked()
