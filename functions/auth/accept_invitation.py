"""POST /oauth/invitation: the invited person's name and password, once; the account is
created and attached to the venue as the invitation says."""

from auth import invitations, pages
from auth.config import Issuer
from auth.models import InvitationForm
from tenancy import DbRole, HtmlPage, Need, NoQuery, Request, public_route


@public_route(
    "POST",
    "/oauth/invitation",
    summary="Accept an invitation: create the account with a password, attached to the venue",
    database=DbRole.ISSUER,
    needs={Need.BREACH_CORPUS},
    body=InvitationForm,
    errors="page",
    error_page=pages.error_page,
)
def handler(request: Request[NoQuery, InvitationForm]) -> HtmlPage:
    return invitations.accept(request.db, request.use(Issuer), request.body)
