"""Staff PINs: what a PIN is, and its digest (docs/decisions.md, "Tills and PINs").

A PIN is 4 to 8 ASCII digits. It is stored as HMAC-SHA256 under a secret pepper (Secrets
Manager, never in the database) over the venue and the PIN, so a till can look the person
up by PIN in one indexed read and a venue's PINs can be kept unique. The pepper is a list of
keys, the active one first, each with an id stored next to the digest: a rotation adds a
key in front, and PINs set under the older key keep working until they are reset.

Used by the route that sets a PIN (venue side) and the one that opens a till session
(issuer side), each reaching the pepper as ``request.use(PinPepper)``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
import uuid
from dataclasses import dataclass, field
from typing import Self

__all__ = ["PIN_PATTERN", "PinDigest", "PinPepper", "is_pin"]

#: 4 to 8 ASCII digits (other scripts' digits are not a PIN: the till's keypad has none).
PIN_PATTERN = r"^[0-9]{4,8}$"
_PIN = re.compile(PIN_PATTERN, re.ASCII)
_KEY_ID = re.compile(r"^[a-z0-9]{1,16}$")


def is_pin(value: str) -> bool:
    return _PIN.fullmatch(value) is not None


@dataclass(frozen=True)
class PinDigest:
    key_id: str
    digest: bytes = field(repr=False)


@dataclass(frozen=True)
class _Key:
    key_id: str
    secret: bytes = field(repr=False)


class PinPepper:
    """The pepper's keys, active first."""

    def __init__(self, keys: list[tuple[str, bytes]]) -> None:
        if not keys:
            raise ValueError("the PIN pepper needs at least one key")
        for key_id, secret in keys:
            if not _KEY_ID.fullmatch(key_id) or not 32 <= len(secret) <= 64:
                raise ValueError("a PIN pepper key is 'id:base64' with 32 to 64 bytes of key")
        self._keys = [_Key(key_id, secret) for key_id, secret in keys]

    @classmethod
    def from_setting(cls, setting: str) -> Self:
        """``id:base64,id:base64,...``, the active key first."""
        keys = []
        for entry in (part.strip() for part in setting.split(",")):
            key_id, _, encoded = entry.partition(":")
            keys.append((key_id, base64.b64decode(encoded, validate=True)))
        return cls(keys)

    @classmethod
    def from_environment(cls) -> Self:
        """``PIN_PEPPER``, or the Secrets Manager secret ``PIN_PEPPER_SECRET_ARN`` names."""
        from tenancy.settings import settings

        config = settings()
        if config.pin_pepper:
            return cls.from_setting(config.pin_pepper)
        if not config.pin_pepper_secret_arn:
            raise RuntimeError("set PIN_PEPPER or PIN_PEPPER_SECRET_ARN")
        import boto3

        client = boto3.client("secretsmanager")
        value: str = client.get_secret_value(SecretId=config.pin_pepper_secret_arn)["SecretString"]
        return cls.from_setting(value)

    def digests(self, venue_id: uuid.UUID, pin: str) -> list[PinDigest]:
        """The PIN's digest at ``venue_id`` under every key, the active key's first."""
        if not is_pin(pin):
            raise ValueError("a PIN is 4 to 8 ASCII digits")
        message = f"venue-pin|{venue_id}|{pin}".encode()
        return [
            PinDigest(key.key_id, hmac.new(key.secret, message, hashlib.sha256).digest())
            for key in self._keys
        ]
