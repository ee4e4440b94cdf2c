"""AES-256-GCM for data the backend must read back, bound to its row, and keyed HMACs for
identifiers it must look up but never read (docs/architecture.md, "Sensitive data").

Sealed text is ``v1.<key id>.<nonce>.<ciphertext>`` (URL-safe base64, no padding): the key
id travels with it, so keys rotate (the active key seals, every listed key still opens).
The associated data names the row (and its venue), so a ciphertext copied onto another row
or venue does not open. The same format as the issuer's TOTP secrets (auth.secretbox, which
is to move onto this module).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
from collections.abc import Mapping

__all__ = ["IdentityKey", "SealedBox", "SealingError", "key_id_of"]


class SealingError(Exception):
    """Tampered, sealed for another row, or sealed with a key we no longer hold. Its text
    never carries the sealed data."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def _key_list(value: str) -> dict[str, bytes]:
    """``"k1:<base64>,k0:<base64>"`` in order, the first the active one."""
    keys: dict[str, bytes] = {}
    for part in value.split(","):
        key_id, _, encoded = part.strip().partition(":")
        if key_id and encoded:
            keys[key_id] = base64.b64decode(encoded)
    if not keys:
        raise ValueError("no keys in the setting")
    return keys


def key_id_of(sealed: str) -> str:
    """The id of the key ``sealed`` was sealed with ('' when it is not sealed text)."""
    parts = sealed.split(".")
    return parts[1] if len(parts) == 4 else ""


class SealedBox:
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError("the active key must be one of the keys")
        if any(len(key) != 32 for key in keys.values()):
            raise ValueError("keys must be 32 bytes (AES-256)")
        if any("." in key_id for key_id in keys):
            raise ValueError("a key id must not contain '.'")
        self._keys = dict(keys)
        self.active_key_id = active_key_id

    @classmethod
    def from_setting(cls, value: str) -> SealedBox:
        """``"k1:<base64>,k0:<base64>"``, the active key first; old keys still open."""
        keys = _key_list(value)
        return cls(keys, next(iter(keys)))

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self.active_key_id]).encrypt(nonce, plaintext, associated_data)
        return f"v1.{self.active_key_id}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, sealed: str, *, associated_data: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            version, key_id, nonce, ciphertext = sealed.split(".")
            if version != "v1":
                raise SealingError("unknown format")
            key = self._keys[key_id]
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(ciphertext), associated_data)
        except (ValueError, KeyError, InvalidTag):
            raise SealingError("the sealed data cannot be opened") from None

    def reseal(self, sealed: str, *, associated_data: bytes) -> str:
        """``sealed`` under the active key (as it is when it already is)."""
        if key_id_of(sealed) == self.active_key_id:
            self.open(sealed, associated_data=associated_data)
            return sealed
        return self.seal(
            self.open(sealed, associated_data=associated_data), associated_data=associated_data
        )


class IdentityKey:
    """HMAC-SHA256 under a secret salt: the same value gives the same identity everywhere
    the salt is the same, and the identity does not give the value back."""

    def __init__(self, salt: bytes) -> None:
        if len(salt) < 32:
            raise ValueError("an identity salt is at least 32 bytes")
        self._salt = salt

    @classmethod
    def from_setting(cls, value: str) -> IdentityKey:
        """The salt as base64 (``id:base64`` is accepted too; the id is ignored)."""
        encoded = value.strip().rpartition(":")[2]
        return cls(base64.b64decode(encoded, validate=True))

    def identity(self, kind: str, normalised: str) -> bytes:
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self._salt, message, hashlib.sha256).digest()
