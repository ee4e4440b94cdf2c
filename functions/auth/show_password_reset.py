"""GET /oauth/password-reset/confirm?token=...: the page a reset link opens."""

from auth import pages, reset
from auth.models import ResetLinkQuery
from tenancy import DbRole, HtmlPage, NoBody, Request, public_route


@public_route(
    "GET",
    "/oauth/password-reset/confirm",
    summary="The form a password-reset link opens",
    database=DbRole.ISSUER,
    query=ResetLinkQuery,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[ResetLinkQuery, NoBody]) -> HtmlPage:
    return reset.link_page(request.db, request.query.token)
