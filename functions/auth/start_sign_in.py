"""POST /oauth/authorize: the sign-in page's form, email and password. Answers the second
factor's page, or the redirect to the client with the code."""

from auth import pages, signin
from auth.config import Issuer
from auth.models import PasswordForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Redirect, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize",
    summary="The sign-in page's form: email and password",
    database=DbRole.ISSUER,
    # A platform admin without a second factor sets one up next: its secret is sealed.
    needs={Need.APP_KEYS},
    body=PasswordForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, PasswordForm]) -> HtmlPage | Redirect:
    return signin.sign_in(
        request.db, request.use(Issuer), request.body, request.cookies, request.source_ip
    )
