"""POST /oauth/authorize/enrol: a platform admin without a second factor confirms the
authenticator set up during their sign-in; the recovery codes are shown once."""

from auth import pages, signin
from auth.config import Issuer
from auth.models import EnrolmentForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize/enrol",
    summary="Confirm the authenticator set up while signing in",
    database=DbRole.ISSUER,
    needs={Need.APP_KEYS},
    body=EnrolmentForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, EnrolmentForm]) -> HtmlPage:
    return signin.confirm_enrolment(request.db, request.use(Issuer), request.body, request.cookies)
