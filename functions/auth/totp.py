"""TOTP (RFC 6238) second factor and single-use recovery codes."""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time

__all__ = [
    "hash_recovery_code",
    "matching_step",
    "new_recovery_codes",
    "new_secret",
    "provisioning_uri",
]

STEP_SECONDS = 30
_RECOVERY_ALPHABET = "abcdefghjkmnpqrstuvwxyz23456789"  # no 0/o, 1/l/i


def new_secret() -> str:
    import pyotp

    return str(pyotp.random_base32(32))  # 160 bits


def provisioning_uri(secret: str, account_name: str, issuer_name: str = "Venue Platform") -> str:
    import pyotp

    return str(pyotp.TOTP(secret).provisioning_uri(name=account_name, issuer_name=issuer_name))


def matching_step(
    secret: str,
    code: str,
    *,
    last_used_step: int | None,
    now: float | None = None,
    window: int = 1,
) -> int | None:
    """The time step ``code`` belongs to (within ±``window``), or None. A step at or before
    ``last_used_step`` is refused: each code works once, and older codes never again."""
    import pyotp

    # ASCII only: str.isdigit() also accepts other scripts' digits ("١٢٣٤٥٦"), which are
    # no TOTP code and which hmac.compare_digest refuses to compare.
    if len(code) != 6 or not (code.isascii() and code.isdigit()):
        return None
    totp = pyotp.TOTP(secret)
    current = int((time.time() if now is None else now) // STEP_SECONDS)
    for step in range(current - window, current + window + 1):
        if last_used_step is not None and step <= last_used_step:
            continue
        if hmac.compare_digest(totp.at(step * STEP_SECONDS), code):
            return step
    return None


def new_recovery_codes(count: int = 10) -> list[str]:
    """Codes like ``k7mq2-xw9ft``: 10 characters of a 31-letter alphabet, about 50 bits."""
    codes: set[str] = set()
    while len(codes) < count:
        raw = "".join(secrets.choice(_RECOVERY_ALPHABET) for _ in range(10))
        codes.add(f"{raw[:5]}-{raw[5:]}")
    return sorted(codes)


def hash_recovery_code(code: str) -> str:
    """Recovery codes are random and high-entropy: a plain SHA-256 is enough (a slow hash
    defends guessable secrets, which these are not)."""
    normalised = "".join(code.lower().split()).replace("-", "")
    return hashlib.sha256(normalised.encode()).hexdigest()
