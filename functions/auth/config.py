"""The issuer's settings and collaborators.

Handlers reach the issuer as ``request.use(Issuer)``: the runtime builds it from the
environment on first use, and tests and the local stack give the runtime their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from auth.breaches import BreachChecker
    from auth.secretbox import SecretBox
    from auth.signing import KmsTokenSigner
    from tenancy.mail import Mailer

__all__ = ["Issuer", "IssuerSettings"]


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


def _kms_client() -> object:
    import boto3

    return boto3.client("kms")


class Issuer:
    """The issuer's settings and collaborators. Each collaborator is built on first use, so
    a route reaches only what it uses, which is what its declaration's ``needs`` grant it
    in AWS: the JWKS route asks KMS for public keys and never reads the app keys; the
    discovery document reads settings only."""

    def __init__(
        self,
        settings: IssuerSettings,
        *,
        signer: KmsTokenSigner | None = None,
        breaches: BreachChecker | None = None,
        secrets: SecretBox | None = None,
        mailer: Mailer | None = None,
        kms_client: Callable[[], object] = _kms_client,
    ) -> None:
        self.settings = settings
        self._signer = signer
        self._breaches = breaches
        self._secrets = secrets
        self._mailer = mailer
        self._kms_client = kms_client
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> Issuer:
        """The deployed issuer: settings from the function's environment (template.yaml)."""
        return cls(IssuerSettings.from_env())

    @classmethod
    def from_settings(
        cls, settings: IssuerSettings, kms_client: object, *, mailer: Mailer | None = None
    ) -> Issuer:
        return cls(settings, kms_client=lambda: kms_client, mailer=mailer)

    @property
    def signer(self) -> KmsTokenSigner:
        """Signs with, and publishes, the KMS keys ``token_signing_key_ids`` names."""
        with self._lock:
            if self._signer is None:
                from auth.signing import KmsTokenSigner

                self._signer = KmsTokenSigner(self._kms_client(), self.settings.signing_key_ids)
            return self._signer

    @property
    def breaches(self) -> BreachChecker:
        with self._lock:
            if self._breaches is None:
                from auth.breaches import BreachChecker, HttpRangeClient, LocalCorpusRangeClient

                corpus = self.settings.breach_corpus
                client = (
                    HttpRangeClient(base_url=corpus)
                    if corpus.startswith("https://")
                    else LocalCorpusRangeClient(Path(corpus))
                )
                self._breaches = BreachChecker(client, self.settings.breach_check_unavailable)
            return self._breaches

    @property
    def secrets(self) -> SecretBox:
        """Seals and opens secrets under the app keys (read from Secrets Manager in AWS)."""
        with self._lock:
            if self._secrets is None:
                from auth.secretbox import SecretBox

                app_keys = self.settings.app_keys or _secret_string(
                    self.settings.app_keys_secret_arn
                )
                self._secrets = SecretBox.from_setting(app_keys)
            return self._secrets

    @property
    def mailer(self) -> Mailer:
        """The one way out for mail: SES from ``mail_from`` in AWS (the local stack and the
        tests give a mailbox of their own)."""
        with self._lock:
            if self._mailer is None:
                from tenancy.mail import SesMailer

                self._mailer = SesMailer(self.settings.mail_from)
            return self._mailer


def _secret_string(arn: str) -> str:
    if not arn:
        raise RuntimeError("set APP_KEYS or APP_KEYS_SECRET_ARN")
    import boto3

    value: str = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value
