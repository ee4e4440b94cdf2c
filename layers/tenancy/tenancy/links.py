"""Single-use links (a password reset, an invitation) and the issuer's codes: a random token
goes out, only its SHA-256 is stored, and the link is found again by that digest."""

from __future__ import annotations

import hashlib
import secrets

__all__ = ["ACCEPT_PATH", "digest", "new_secret"]

#: The issuer's page an invitation's link opens (here, not in ``tenancy.invitations``, so the
#: issuer's pages name it without importing the inviting side and its mail port).
ACCEPT_PATH = "/oauth/invitation"


def digest(secret: str) -> bytes:
    """Codes and tokens are high-entropy random strings: SHA-256 is enough to store them."""
    return hashlib.sha256(secret.encode()).digest()


def new_secret() -> str:
    return secrets.token_urlsafe(32)
