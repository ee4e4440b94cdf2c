"""GET /oauth/authorize: the authorization endpoint (RFC 6749 §4.1.1, RFC 7636, OpenID
Connect Core §3.1.2). A valid request gets the issuer's sign-in page; an invalid one a
redirect with the error, or an error page when the client or its redirect URI is not right."""

from auth import authorization, pages
from auth.config import Issuer
from auth.models import AuthorizationQuery
from tenancy import DbRole, HtmlPage, NoBody, Redirect, Request, public_route


@public_route(
    "GET",
    "/oauth/authorize",
    summary="Start signing in: the issuer's sign-in page for a client's authorization request",
    database=DbRole.ISSUER,
    query=AuthorizationQuery,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[AuthorizationQuery, NoBody]) -> HtmlPage | Redirect:
    return authorization.start(request.db, request.use(Issuer), request.query, request.cookies)
