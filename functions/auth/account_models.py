"""What the signed-in person's account routes (password, TOTP) take and give."""

from __future__ import annotations

from pydantic import BaseModel, Field

from tenancy import StrictBody


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
