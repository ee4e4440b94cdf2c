"""POST /oauth/token: authorization_code (PKCE), refresh_token (rotating) and
client_credentials (tills). There is no password grant."""

from auth import grants
from auth.config import Issuer
from auth.token_models import TokenRequest, TokenResponse
from tenancy import DbRole, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/token",
    summary="Exchange a code, a refresh token or till credentials for tokens",
    database=DbRole.ISSUER,
    needs={Need.SIGNING_KEY},
    body=TokenRequest,
    response=TokenResponse,
    errors="oauth",
)
def handler(request: Request[NoQuery, TokenRequest]) -> TokenResponse:
    return grants.token(request.db, request.use(Issuer), request.body)
