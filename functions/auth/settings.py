"""The issuer's settings, read from the function's environment.

Kept apart from ``auth.config`` so a handler's import does not build this model: the
runtime builds the ``Issuer`` (and with it the settings) on the first request.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["IssuerSettings"]


class IssuerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    token_issuer: str = Field(min_length=1)
    token_audience: str = Field(min_length=1)
    #: KMS key ids, the active signing key first; the others stay published in the JWKS.
    #: Only the routes that sign or publish keys are given them; the signer refuses none.
    token_signing_key_ids: str = ""
    #: AES-256-GCM keys for sealed secrets (TOTP), "id:base64,..." with the active first;
    #: in AWS read from the Secrets Manager secret ``app_keys_secret_arn`` instead.
    app_keys: str = ""
    app_keys_secret_arn: str = ""
    #: The Have-I-Been-Pwned range API, or a local corpus file (tests, `make dev`).
    breach_corpus: str = "https://api.pwnedpasswords.com/range/"
    #: When the corpus cannot be reached: "refuse" the password (default: fail closed,
    #: a privileged password is never set unchecked) or "allow" it.
    breach_check_unavailable: Literal["refuse", "allow"] = "refuse"
    access_token_seconds: int = Field(default=900, gt=0, le=900)
    authorization_code_seconds: int = Field(default=60, gt=0, le=600)
    #: How long a person has to finish signing in on the pages once a client sent them.
    authorization_request_seconds: int = Field(default=1800, gt=0, le=3600)
    refresh_token_days: int = Field(default=30, gt=0, le=90)
    #: A sign-in session's absolute lifetime: refreshing never extends it.
    session_absolute_days: int = Field(default=30, gt=0, le=90)
    signin_window_seconds: int = Field(default=900, gt=0)
    signin_max_failures_per_identifier: int = Field(default=5, gt=0)
    signin_max_failures_per_ip: int = Field(default=50, gt=0)
    #: A password-reset link lives this long and works once.
    password_reset_seconds: int = Field(default=1800, gt=0, le=86400)
    #: Reset links asked for, per address and per source IP, in the sign-in window.
    password_reset_max_per_identifier: int = Field(default=3, gt=0)
    password_reset_max_per_ip: int = Field(default=20, gt=0)
    #: The address reset links are sent from (an SES identity in AWS).
    mail_from: str = ""
    #: A till session ends this long after it opened (there are no shifts yet)...
    till_session_absolute_seconds: int = Field(default=12 * 3600, gt=0, le=24 * 3600)
    #: ... or after this long without a request, whichever comes first.
    till_session_idle_seconds: int = Field(default=30 * 60, ge=120, le=12 * 3600)
    #: Wrong PINs a till may enter in the window before it is locked (whoever's PIN).
    till_pin_max_failures: int = Field(default=5, gt=0)
    till_pin_window_seconds: int = Field(default=900, gt=0)

    @property
    def signing_key_ids(self) -> list[str]:
        return [k.strip() for k in self.token_signing_key_ids.split(",") if k.strip()]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IssuerSettings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        )
