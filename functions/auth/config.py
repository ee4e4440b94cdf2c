"""The issuer's settings and collaborators, built once per container from the environment.

Tests and the local stack build their own ``Issuer`` and install it, instead of patching.
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from pydantic import BaseModel, ConfigDict, Field

if TYPE_CHECKING:
    from auth.breaches import BreachChecker
    from auth.secretbox import SecretBox
    from auth.signing import KmsTokenSigner

__all__ = ["Issuer", "IssuerSettings", "current_issuer", "install_issuer"]


class IssuerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    token_issuer: str = Field(min_length=1)
    token_audience: str = Field(min_length=1)
    #: KMS key ids, the active signing key first; the others stay published in the JWKS.
    token_signing_key_ids: str = Field(min_length=1)
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
    mfa_challenge_seconds: int = Field(default=300, gt=0, le=900)
    refresh_token_days: int = Field(default=30, gt=0, le=90)
    #: A sign-in session's absolute lifetime: refreshing never extends it.
    session_absolute_days: int = Field(default=30, gt=0, le=90)
    signin_window_seconds: int = Field(default=900, gt=0)
    signin_max_failures_per_identifier: int = Field(default=5, gt=0)
    signin_max_failures_per_ip: int = Field(default=50, gt=0)

    @property
    def signing_key_ids(self) -> list[str]:
        return [k.strip() for k in self.token_signing_key_ids.split(",") if k.strip()]

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> IssuerSettings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        )


@dataclass(frozen=True)
class Issuer:
    settings: IssuerSettings
    signer: KmsTokenSigner
    breaches: BreachChecker
    secrets: SecretBox

    @classmethod
    def from_settings(cls, settings: IssuerSettings, kms_client: object) -> Issuer:
        from auth.breaches import BreachChecker, HttpRangeClient, LocalCorpusRangeClient
        from auth.secretbox import SecretBox
        from auth.signing import KmsTokenSigner

        app_keys = settings.app_keys or _secret_string(settings.app_keys_secret_arn)
        corpus = settings.breach_corpus
        client = (
            HttpRangeClient(base_url=corpus)
            if corpus.startswith("https://")
            else LocalCorpusRangeClient(Path(corpus))
        )
        return cls(
            settings=settings,
            signer=KmsTokenSigner(kms_client, settings.signing_key_ids),
            breaches=BreachChecker(client, settings.breach_check_unavailable),
            secrets=SecretBox.from_setting(app_keys),
        )


def _secret_string(arn: str) -> str:
    if not arn:
        raise RuntimeError("set APP_KEYS or APP_KEYS_SECRET_ARN")
    import boto3

    value: str = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value


_lock = threading.Lock()
_installed: Issuer | None = None


@functools.cache
def _from_environment() -> Issuer:
    import boto3

    return Issuer.from_settings(IssuerSettings.from_env(), boto3.client("kms"))


def current_issuer() -> Issuer:
    with _lock:
        if _installed is not None:
            return _installed
    return _from_environment()


def install_issuer(issuer: Issuer | None) -> None:
    """Use ``issuer`` for every auth route of this process (tests, the local stack)."""
    global _installed
    with _lock:
        _installed = issuer
