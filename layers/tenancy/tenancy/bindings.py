"""Bindings an injected statement cannot forge.

The gate binds the request's venue, user, session and whether the session has a second
factor, transaction-locally, together with ``app.binding``: an expiry and an HMAC-SHA256 of
all of them under a key the database roles of the functions cannot read. Every
row-level-security policy asks ``app.binding_allows()`` (SECURITY DEFINER, owned by a role
that can read the key) whether the binding is genuine, so ``set_config('app.venue_id', …)``
on its own opens nothing. A till session is bound with no user: its session id names the
till session, which names the staff member (infra/migrations/0008_tills.sql).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

__all__ = [
    "PAYMENTS_SERVICE",
    "PLATFORM_ADMIN",
    "Binder",
    "BindingKey",
    "Bindings",
    "LazyBindingKey",
]

#: How long a binding is honoured: far beyond any request (Lambda's timeout is 10 s), short
#: enough that a leaked one is soon worthless.
LIFETIME_SECONDS = 60


@dataclass(frozen=True)
class Bindings:
    """The settings the gate sends with ``set_config(..., true)``."""

    #: Binds them for the rest of the transaction; takes ``as_params()``.
    SQL = (
        "SELECT pg_catalog.set_config('app.venue_id', %s, true),"
        " pg_catalog.set_config('app.user_id', %s, true),"
        " pg_catalog.set_config('app.session_id', %s, true),"
        " pg_catalog.set_config('app.mfa', %s, true),"
        " pg_catalog.set_config('app.binding', %s, true)"
    )

    venue_id: str
    user_id: str
    session_id: str
    mfa: str
    binding: str

    def as_params(self) -> tuple[str, str, str, str, str]:
        return (self.venue_id, self.user_id, self.session_id, self.mfa, self.binding)

    def as_named(self) -> dict[str, str]:
        """The same by name, for the gate's functions (app.venue_gate, app.user_gate), which
        set them as ``SQL`` does."""
        return {
            "venue": self.venue_id,
            "user": self.user_id,
            "session": self.session_id,
            "mfa": self.mfa,
            "binding": self.binding,
        }


class Binder(Protocol):
    def bind(
        self,
        *,
        user_id: uuid.UUID | None,
        session_id: uuid.UUID | str,
        venue_id: uuid.UUID | None,
        mfa: bool,
        now: float | None = None,
    ) -> Bindings: ...


@dataclass(frozen=True)
class BindingKey:
    key_id: str
    secret: bytes = field(repr=False)

    @classmethod
    def from_setting(cls, setting: str) -> BindingKey:
        """``id:base64``, as infra/migrate.py installs it in the database."""
        key_id, _, encoded = setting.partition(":")
        secret = base64.b64decode(encoded, validate=True)
        if not key_id or not 32 <= len(secret) <= 64:
            raise ValueError("a binding key is 'id:base64' with 32 to 64 bytes of key")
        return cls(key_id, secret)

    def bind(
        self,
        *,
        user_id: uuid.UUID | None,
        session_id: uuid.UUID | str,
        venue_id: uuid.UUID | None,
        mfa: bool,
        now: float | None = None,
    ) -> Bindings:
        venue = "" if venue_id is None else str(venue_id)
        # No user: a till session (``session_id`` names a till session, not a sign-in).
        user = "" if user_id is None else str(user_id)
        session, second_factor = str(session_id), "1" if mfa else "0"
        expires = str(int(time.time() if now is None else now) + LIFETIME_SECONDS)
        message = "|".join((venue, user, session, second_factor, expires)).encode()
        mac = hmac.new(self.secret, message, hashlib.sha256).hexdigest()
        return Bindings(venue, user, session, second_factor, f"{self.key_id}.{expires}.{mac}")


class LazyBindingKey:
    """A key read on first use (from Secrets Manager in AWS), not at cold start."""

    def __init__(self, load: Callable[[], str]) -> None:
        self._load = load
        self._key: BindingKey | None = None
        self._lock = threading.Lock()

    def bind(
        self,
        *,
        user_id: uuid.UUID | None,
        session_id: uuid.UUID | str,
        venue_id: uuid.UUID | None,
        mfa: bool,
        now: float | None = None,
    ) -> Bindings:
        with self._lock:
            if self._key is None:
                self._key = BindingKey.from_setting(self._load())
        return self._key.bind(
            user_id=user_id, session_id=session_id, venue_id=venue_id, mfa=mfa, now=now
        )


#: What ``app.binding_allows(required)`` is asked for the platform area: the bound user is a
#: platform admin whose session had a second factor (no venue looked at). Flags are never
#: negative; other negative values are reserved (docs/database-roles.md).
PLATFORM_ADMIN = -1

#: The session a trusted consumer binds instead of a person's: the payments processor binds
#: the venue it settles with no user and this session, which the verifier honours for the
#: ``app_payments`` login role only (migration 0019_payments.sql).
PAYMENTS_SERVICE = "service:payments"
