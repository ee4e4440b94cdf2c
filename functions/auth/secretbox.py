"""AES-256-GCM for secrets the backend must read back (TOTP secrets), bound to their row."""

from __future__ import annotations

import base64
import os
from collections.abc import Mapping

__all__ = ["SecretBox", "SecretBoxError"]


class SecretBoxError(Exception):
    """Tampered, sealed for another row, or sealed with a key we no longer hold."""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class SecretBox:
    def __init__(self, keys: Mapping[str, bytes], active_key_id: str) -> None:
        if active_key_id not in keys:
            raise ValueError("the active key must be one of the keys")
        if any(len(key) != 32 for key in keys.values()):
            raise ValueError("keys must be 32 bytes (AES-256)")
        self._keys = dict(keys)
        self._active = active_key_id

    @classmethod
    def from_setting(cls, value: str) -> SecretBox:
        """``"k1:<base64>,k0:<base64>"``, the active key first; old keys still open."""
        keys: dict[str, bytes] = {}
        for part in value.split(","):
            key_id, _, encoded = part.strip().partition(":")
            if key_id and encoded:
                keys[key_id] = base64.b64decode(encoded)
        if not keys:
            raise ValueError("no keys in the setting")
        return cls(keys, next(iter(keys)))

    def seal(self, plaintext: bytes, *, associated_data: bytes) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._keys[self._active]).encrypt(nonce, plaintext, associated_data)
        return f"v1.{self._active}.{_b64(nonce)}.{_b64(sealed)}"

    def open(self, sealed: str, *, associated_data: bytes) -> bytes:
        from cryptography.exceptions import InvalidTag
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        try:
            version, key_id, nonce, ciphertext = sealed.split(".")
            key = self._keys[key_id]
            if version != "v1":
                raise SecretBoxError("unknown format")
            return AESGCM(key).decrypt(_unb64(nonce), _unb64(ciphertext), associated_data)
        except (ValueError, KeyError, InvalidTag):
            raise SecretBoxError("the secret cannot be opened") from None
