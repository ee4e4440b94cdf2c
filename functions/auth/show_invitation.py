"""GET /oauth/invitation?token=...: the page an invitation's link opens."""

from auth import invitations, pages
from auth.models import ResetLinkQuery
from tenancy import DbRole, HtmlPage, NoBody, Request, public_route


@public_route(
    "GET",
    "/oauth/invitation",
    summary="The form an invitation's link opens",
    database=DbRole.ISSUER,
    query=ResetLinkQuery,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[ResetLinkQuery, NoBody]) -> HtmlPage:
    return invitations.link_page(request.db, request.query.token)
