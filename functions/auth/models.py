"""What the issuer's routes take and give."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SerializerFunctionWrapHandler, model_serializer

from tenancy import FormBody, RawQuery, StrictBody
from tenancy.pins import PIN_PATTERN

#: No control characters: Postgres text cannot hold NUL, and no email, client id, URI or
#: state needs one. Refused as invalid input before anything reaches the database.
_PRINTABLE = r"^[^\x00-\x1f\x7f]*$"


class AuthorizationQuery(RawQuery):
    """An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1),
    judged by the route itself: a repeated parameter is refused, an unknown one ignored."""

    documented = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
        "login_hint",
        "response_mode",
    )


class PageForm(FormBody):
    """What every form of the sign-in carries: the pending authorization request and the
    CSRF token bound to it."""

    request: str = Field(max_length=64)
    csrf: str = Field(max_length=128)


class PasswordForm(PageForm):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class SecondFactorForm(PageForm):
    code: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=32)


class EnrolmentForm(PageForm):
    code: str = Field(max_length=16)


class ContinueForm(PageForm):
    pass


class ResetRequestForm(PageForm):
    email: str = Field(max_length=320)


class ResetLinkQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(max_length=128)


class NewPasswordForm(FormBody):
    token: str = Field(max_length=128)
    password: str = Field(max_length=4096)
    password_again: str = Field(max_length=4096)


class InvitationForm(FormBody):
    token: str = Field(max_length=128)
    display_name: str = Field(max_length=200)
    password: str = Field(max_length=4096)
    password_again: str = Field(max_length=4096)


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
    """OpenID Connect Discovery 1.0 / RFC 8414: only what the issuer really does. Members
    whose default would claim more (``request_uri_parameter_supported`` defaults to true)
    are stated."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]
    acr_values_supported: list[str]
    prompt_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    claims_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool


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
