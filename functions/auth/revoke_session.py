"""POST /oauth/revoke (RFC 7009): sign out a session by its refresh token."""

from auth import grants
from auth.revocation_models import Revocation, Revoked
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
    grants.revoke(request.db, request.body.token, request.body.client_id)
    return Revoked()
