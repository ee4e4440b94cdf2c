"""What the issuer's routes take and give."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from tenancy import FormBody, StrictBody
from tenancy.pins import PIN_PATTERN

_CHALLENGE = r"^[A-Za-z0-9_-]{43,128}$"
#: No control characters: Postgres text cannot hold NUL, and no email, client id, URI or
#: state needs one. Refused as invalid input before anything reaches the database.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class SignIn(StrictBody):
    email: str = Field(min_length=3, max_length=320, pattern=_PRINTABLE)
    password: str = Field(min_length=1, max_length=4096)
    client_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)
    redirect_uri: str = Field(min_length=1, max_length=2048, pattern=_PRINTABLE)
    code_challenge: str = Field(pattern=_CHALLENGE)
    code_challenge_method: Literal["S256"]
    state: str | None = Field(default=None, max_length=512, pattern=_PRINTABLE)


class SecondFactor(StrictBody):
    mfa_token: str = Field(min_length=1, max_length=256)
    code: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=32)
    state: str | None = Field(default=None, max_length=512, pattern=_PRINTABLE)


class Authorization(BaseModel):
    """Either a one-time code for ``redirect_uri``, or a second factor to ask for."""

    status: Literal["authorized", "mfa_required"]
    code: str | None = None
    redirect_uri: str | None = None
    state: str | None = None
    mfa_token: str | None = None
    mfa_methods: list[str] | None = None


class TokenRequest(FormBody):
    grant_type: str = Field(max_length=64, pattern=_PRINTABLE)
    client_id: str | None = Field(default=None, max_length=64, pattern=_PRINTABLE)
    client_secret: str | None = Field(default=None, max_length=256)
    code: str | None = Field(default=None, max_length=256)
    redirect_uri: str | None = Field(default=None, max_length=2048, pattern=_PRINTABLE)
    code_verifier: str | None = Field(default=None, max_length=256)
    refresh_token: str | None = Field(default=None, max_length=256)
    scope: str | None = Field(default=None, max_length=256, pattern=_PRINTABLE)


class TokenResponse(BaseModel):
    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: str
    refresh_token: str | None = None


class Revocation(FormBody):
    token: str = Field(max_length=4096)
    token_type_hint: str | None = Field(default=None, max_length=64, pattern=_PRINTABLE)
    #: The client revoking (RFC 7009 §2.1): only the client a token was issued to may.
    client_id: str = Field(min_length=1, max_length=64, pattern=_PRINTABLE)


class Revoked(BaseModel):
    revoked: bool = True


class PasswordChange(StrictBody):
    current_password: str = Field(min_length=1, max_length=4096)
    new_password: str = Field(min_length=1, max_length=4096)


class PasswordChanged(BaseModel):
    changed: bool = True
    other_sessions_revoked: int


class TotpEnrolment(BaseModel):
    secret: str
    otpauth_uri: str


class TotpCode(StrictBody):
    code: str = Field(min_length=1, max_length=16)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class MfaRemoved(BaseModel):
    removed: bool = True


class Jwks(BaseModel):
    model_config = ConfigDict(extra="allow")

    keys: list[dict[str, Any]]


class OpenIdConfiguration(BaseModel):
    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    scopes_supported: list[str]


class PinEntry(StrictBody):
    """A staff PIN entered on the till: 4 to 8 ASCII digits."""

    pin: str = Field(pattern=PIN_PATTERN)


class TillStaffMember(BaseModel):
    id: uuid.UUID
    display_name: str
    role: str


class TillSessionOpened(BaseModel):
    """The till session's token: an RFC 9068 access token (scope ``till-session``) naming
    the till session (``sid``), its venue, staff member and device. It lives until the
    session's end; the session also ends after ``idle_timeout_seconds`` without a request,
    or when the till is locked."""

    access_token: str
    token_type: Literal["Bearer"] = "Bearer"  # noqa: S105 - a token type, not a secret
    expires_in: int
    scope: Literal["till-session"] = "till-session"
    session_id: uuid.UUID
    venue_id: uuid.UUID
    staff_member: TillStaffMember
    expires_at: dt.datetime
    idle_timeout_seconds: int
