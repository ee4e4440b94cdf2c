"""Secrets sealed under the app keys (TOTP secrets): the shared AES-256-GCM box of
``tenancy.sealing``, under the names the issuer has always used."""

from tenancy.sealing import SealedBox as SecretBox
from tenancy.sealing import SealingError as SecretBoxError

__all__ = ["SecretBox", "SecretBoxError"]
