"""GET /me: who the token belongs to."""

from account import queries
from account.models import Me
from tenancy import NoBody, NoQuery, UserRequest, not_found, user_route


@user_route("GET", "/me", summary="The signed-in account", response=Me)
def handler(request: UserRequest[NoQuery, NoBody]) -> Me:
    row = queries.user_profile(request.db, request.user_id)
    if row is None:
        raise not_found("account")
    return Me(**row)
