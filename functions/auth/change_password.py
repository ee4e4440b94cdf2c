"""POST /me/password: a new password, checked against the policy and known breaches."""

from auth import credentials
from auth.account_models import PasswordChange, PasswordChanged
from auth.config import Issuer
from tenancy import DbRole, Need, NoQuery, UserRequest, user_route


@user_route(
    "POST",
    "/me/password",
    summary="Change the signed-in account's password",
    database=DbRole.ISSUER,
    needs={Need.BREACH_CORPUS},
    body=PasswordChange,
    response=PasswordChanged,
)
def handler(request: UserRequest[NoQuery, PasswordChange]) -> PasswordChanged:
    revoked = credentials.change_password(
        request.db,
        request.use(Issuer),
        user_id=request.user_id,
        is_platform_admin=request.is_platform_admin,
        session=request.identity.session_id,
        current_password=request.body.current_password,
        new_password=request.body.new_password,
        source_ip=request.source_ip,
    )
    return PasswordChanged(other_sessions_revoked=revoked)
