"""POST /oauth/password-reset/confirm: the new password, set once through a reset link;
every session of the account ends."""

from auth import pages, reset
from auth.config import Issuer
from auth.models import NewPasswordForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/password-reset/confirm",
    summary="Set a new password through a reset link",
    database=DbRole.ISSUER,
    needs={Need.BREACH_CORPUS},
    body=NewPasswordForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, NewPasswordForm]) -> HtmlPage:
    return reset.change(request.db, request.use(Issuer), request.body)
