"""POST /oauth/authorize: credentials in, a one-time code (or an MFA challenge) out."""

from auth import signin
from auth.config import Issuer
from auth.models import Authorization, SignIn
from tenancy import DbRole, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize",
    summary="Sign in with email and password (authorization code + PKCE)",
    database=DbRole.ISSUER,
    body=SignIn,
    response=Authorization,
    errors="oauth",
)
def handler(request: Request[NoQuery, SignIn]) -> Authorization:
    return signin.sign_in(request.db, request.use(Issuer), request.body, request.source_ip)
