"""What the token revocation route (RFC 7009) takes and gives."""

from __future__ import annotations

from pydantic import BaseModel, Field

from auth.model_base import PRINTABLE
from tenancy import FormBody


class Revocation(FormBody):
    token: str = Field(max_length=4096)
    token_type_hint: str | None = Field(default=None, max_length=64, pattern=PRINTABLE)
    #: The client revoking (RFC 7009 §2.1): only the client a token was issued to may.
    client_id: str = Field(min_length=1, max_length=64, pattern=PRINTABLE)


class Revoked(BaseModel):
    revoked: bool = True
