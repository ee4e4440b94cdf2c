"""POST /oauth/authorize/mfa: the second factor's page form, a TOTP or recovery code."""

from auth import pages, signin
from auth.config import Issuer
from auth.models import SecondFactorForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Redirect, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize/mfa",
    summary="The second factor's form: a TOTP or recovery code",
    database=DbRole.ISSUER,
    needs={Need.APP_KEYS},
    body=SecondFactorForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, SecondFactorForm]) -> HtmlPage | Redirect:
    return signin.second_factor(
        request.db, request.use(Issuer), request.body, request.cookies, request.source_ip
    )
