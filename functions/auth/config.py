"""The issuer's settings and collaborators.

Handlers reach the issuer as ``request.use(Issuer)``: the runtime builds it from the
environment on first use, and tests and the local stack give the runtime their own.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from auth.breaches import BreachChecker
    from auth.secretbox import SecretBox
    from auth.settings import IssuerSettings
    from auth.signing import KmsTokenSigner
    from tenancy.mail import Mailer

__all__ = ["Issuer"]


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
        # Imported here: building the settings model is first-request work, not import work.
        from auth.settings import IssuerSettings

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
