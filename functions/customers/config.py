"""The diners' keys: the AES-256-GCM app keys that seal allergens and dietary notes, and the
salt of the identities (HMAC-SHA256 of a normalised email or phone).

Handlers reach them as ``request.use(DinerKeys)``: built from the environment on first use,
each key read only when first needed (a route reaches what its ``needs`` grant it: the
identity salt, ``Need.IDENTITY_SALT``; the app keys, ``Need.APP_KEYS``). Tests and the local
stack give the runtime their own.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Mapping

from pydantic import BaseModel, ConfigDict

from tenancy.sealing import IdentityKey, SealedBox

__all__ = ["DinerKeys", "DinerSettings"]


class DinerSettings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    #: AES-256-GCM keys, "id:base64,..." with the active first (the issuer's app keys);
    #: in AWS read from the Secrets Manager secret ``app_keys_secret_arn`` instead.
    app_keys: str = ""
    app_keys_secret_arn: str = ""
    #: The identity salt (base64, at least 32 bytes); in AWS read from the Secrets Manager
    #: secret ``identity_salt_secret_arn``. Never rotated: identities are looked up by it.
    identity_salt: str = ""
    identity_salt_secret_arn: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> DinerSettings:
        env = os.environ if env is None else env
        return cls.model_validate(
            {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        )


def _secret_string(arn: str, what: str) -> str:
    if not arn:
        raise RuntimeError(f"set {what} or {what}_SECRET_ARN")
    import boto3

    value: str = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value


class DinerKeys:
    """The sealing box and the identity key, each built on first use."""

    def __init__(
        self,
        settings: DinerSettings,
        *,
        secret_string: Callable[[str, str], str] = _secret_string,
    ) -> None:
        self.settings = settings
        self._secret_string = secret_string
        self._box: SealedBox | None = None
        self._identity: IdentityKey | None = None
        self._lock = threading.Lock()

    @classmethod
    def from_environment(cls) -> DinerKeys:
        return cls(DinerSettings.from_env())

    @classmethod
    def from_values(cls, *, app_keys: str, identity_salt: str) -> DinerKeys:
        return cls(DinerSettings(app_keys=app_keys, identity_salt=identity_salt))

    @property
    def box(self) -> SealedBox:
        with self._lock:
            if self._box is None:
                value = self.settings.app_keys or self._secret_string(
                    self.settings.app_keys_secret_arn, "APP_KEYS"
                )
                self._box = SealedBox.from_setting(value)
            return self._box

    @property
    def identity(self) -> IdentityKey:
        with self._lock:
            if self._identity is None:
                value = self.settings.identity_salt or self._secret_string(
                    self.settings.identity_salt_secret_arn, "IDENTITY_SALT"
                )
                self._identity = IdentityKey.from_setting(value)
            return self._identity
