"""POST /oauth/password-reset: "forgot your password?" on a sign-in page. The same page,
and the same work, whether or not an account has the address."""

from auth import pages, reset
from auth.config import Issuer
from auth.models import ResetRequestForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/password-reset",
    summary="Ask for a link to choose a new password",
    database=DbRole.ISSUER,
    needs={Need.MAIL},
    body=ResetRequestForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, ResetRequestForm]) -> HtmlPage:
    return reset.request_link(
        request.db, request.use(Issuer), request.body, request.cookies, request.source_ip
    )
