"""OpenID Connect's UserInfo (Core §5.3): the subject and, as the token's scopes allow, the
email (``email``) and the name (``profile``) of the person who signed in."""

from __future__ import annotations

from auth import queries
from auth.userinfo_models import UserInfo
from tenancy import JsonDocument, NoBody, NoQuery, UserRequest

__all__ = ["user_info"]


def user_info(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    """The gate has verified the token (scope ``openid``) and the session; absent claims
    are left out, as Core §5.3.2 asks."""
    profile = queries.profile(request.db, request.user_id)
    assert profile is not None
    scopes = request.identity.scopes
    info = UserInfo(
        sub=str(request.user_id),
        email=profile["email"] if "email" in scopes else None,
        name=profile["display_name"] if "profile" in scopes else None,
    )
    return JsonDocument(info.model_dump_json())
