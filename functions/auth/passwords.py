"""Password hashing (argon2id) and the password policy (docs/architecture.md, "Identity")."""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

from tenancy.problems import Problem

if TYPE_CHECKING:
    from auth.breaches import BreachChecker

__all__ = [
    "ARGON2_MEMORY_KIB",
    "ARGON2_PARALLELISM",
    "ARGON2_TIME_COST",
    "MAX_PASSWORD_LENGTH",
    "POLICY_RULES",
    "check_new_password",
    "check_password_policy",
    "hash_password",
    "needs_rehash",
    "verify_against_dummy",
    "verify_password",
]

# OWASP's minimum for argon2id: 19 MiB of memory, 2 iterations, 1 lane.
ARGON2_TIME_COST = 2
ARGON2_MEMORY_KIB = 19456
ARGON2_PARALLELISM = 1
#: Long enough for any passphrase; bounded so hashing cost stays bounded.
MAX_PASSWORD_LENGTH = 1024
POLICY_RULES = (
    "too-short",
    "too-long",
    "needs-uppercase",
    "needs-lowercase",
    "needs-digit",
    "needs-symbol",
    "breached",
)


@functools.cache
def _hasher() -> Any:
    from argon2 import PasswordHasher, Type

    return PasswordHasher(
        time_cost=ARGON2_TIME_COST,
        memory_cost=ARGON2_MEMORY_KIB,
        parallelism=ARGON2_PARALLELISM,
        hash_len=32,
        salt_len=16,
        type=Type.ID,
    )


def hash_password(password: str) -> str:
    value: str = _hasher().hash(password)
    return value


def verify_password(stored_hash: str, password: str) -> bool:
    from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

    try:
        return bool(_hasher().verify(stored_hash, password))
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(stored_hash: str) -> bool:
    return bool(_hasher().check_needs_rehash(stored_hash))


@functools.cache
def _dummy_hash() -> str:
    return hash_password("no account has this password: it only costs time")


def verify_against_dummy(password: str) -> None:
    """Spend what a real verification costs, so unknown emails answer as slowly as known."""
    verify_password(_dummy_hash(), password)


def _refuse(rule: str, message: str) -> Problem:
    return Problem(422, "weak-password", message, rule=rule)


def check_password_policy(password: str, *, privileged: bool, breaches: BreachChecker) -> None:
    """Refuse the first rule ``password`` breaks, naming it; never echo the password."""
    minimum = 12 if privileged else 8
    if len(password) < minimum:
        raise _refuse("too-short", f"use at least {minimum} characters")
    if len(password) > MAX_PASSWORD_LENGTH:
        raise _refuse("too-long", f"use at most {MAX_PASSWORD_LENGTH} characters")
    if privileged:
        if not any(c.isupper() for c in password):
            raise _refuse("needs-uppercase", "add an uppercase letter")
        if not any(c.islower() for c in password):
            raise _refuse("needs-lowercase", "add a lowercase letter")
        if not any(c.isdigit() for c in password):
            raise _refuse("needs-digit", "add a digit")
        if all(c.isalnum() for c in password):
            raise _refuse("needs-symbol", "add a symbol (anything other than a letter or digit)")
    if breaches.is_breached(password):
        raise _refuse("breached", "this password appears in a known data breach; choose another")


def check_new_password(
    password: str, again: str, *, privileged: bool, breaches: BreachChecker
) -> None:
    """A new password typed twice on a page (a reset link, an invitation): the two must be
    the same, then the policy applies."""
    if password != again:
        raise Problem(422, "passwords-differ", "The two passwords are not the same.")
    check_password_policy(password, privileged=privileged, breaches=breaches)
