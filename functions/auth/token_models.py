"""What the OAuth token route takes and gives."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from auth.model_base import PRINTABLE, OmitsAbsent
from tenancy import FormBody


class TokenRequest(FormBody):
    grant_type: str = Field(max_length=64, pattern=PRINTABLE)
    client_id: str | None = Field(default=None, max_length=64, pattern=PRINTABLE)
    client_secret: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=2048, pattern=PRINTABLE)
    code_verifier: str | None = Field(default=None, max_length=256)
    refresh_token: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=256, pattern=PRINTABLE)


class TokenResponse(OmitsAbsent):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: str
    refresh_token: str | None = None
    #: OpenID Connect: when the code's request asked for the openid scope.
    id_token: str | None = None
