"""What the OAuth token, revocation and UserInfo routes take and give."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field, SerializerFunctionWrapHandler, model_serializer

from tenancy import FormBody

#: No control characters: Postgres text cannot hold NUL, and no email, client id, URI or
#: state needs one. Refused as invalid input before anything reaches the database.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class TokenRequest(FormBody):
    grant_type: str = Field(max_length=64, pattern=_PRINTABLE)
    client_id: str | None = Field(default=None, max_length=64, pattern=_PRINTABLE)
    client_secret: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=2048, pattern=_PRINTABLE)
    code_verifier: str | None = Field(default=None, max_length=256)
    refresh_token: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=256, pattern=_PRINTABLE)


class _OmitsAbsent(BaseModel):
    """A response whose absent members are left out rather than sent as null (OAuth and
    OpenID Connect clients read a null as a value)."""

    @model_serializer(mode="wrap")
    def _omit_absent(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        dumped: dict[str, Any] = handler(self)
        return {key: value for key, value in dumped.items() if value is not None}


class TokenResponse(_OmitsAbsent):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: str
    refresh_token: str | None = None
    #: OpenID Connect: when the code's request asked for the openid scope.
    id_token: str | None = None


class UserInfo(_OmitsAbsent):
    """OpenID Connect's UserInfo: the subject, and what the granted scopes open."""

    sub: str
    email: str | None = None
    name: str | None = None


class Revocation(FormBody):
    token: str = Field(max_length=4096)
    token_type_hint: str | None = Field(default=None, max_length=64, pattern=_PRINTABLE)
    #: The client revoking (RFC 7009 §2.1): only the client a token was issued to may.
    client_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)


class Revoked(BaseModel):
    revoked: bool = True
