"""Single-use links (a password reset, an invitation) and the issuer's codes: a random token
goes out, only its SHA-256 is stored, and the link is found again by that digest."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["digest", "new_secret"]


def digest(secret: str) -> bytes:
    """Codes and tokens are high-entropy random strings: SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)
