"""POST /oauth/authorize/continue: after the recovery codes were shown, the sign-in goes on
to the client with its code."""

from auth import pages, signin
from auth.config import Issuer
from auth.models import ContinueForm
from tenancy import DbRole, NoQuery, Redirect, Request, public_route


@public_route(
    "POST",
    "/oauth/authorize/continue",
    summary="Go on to the app once the recovery codes are kept",
    database=DbRole.ISSUER,
    body=ContinueForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, ContinueForm]) -> Redirect:
    return signin.finish_after_enrolment(
        request.db, request.use(Issuer), request.body, request.cookies, request.source_ip
    )
