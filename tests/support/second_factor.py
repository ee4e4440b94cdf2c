"""Accounts with a second factor, venues that require one, and the sign-in that answers it,
for the issuer's tests."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pyotp

from auth import totp as totp_codes
from auth.config import Issuer
from infra.local.client import ApiClient
from tests.support.demo_users import account_id
from tests.support.oauth import Started, answer_mfa, authorize, exchange

__all__ = [
    "Enrolled",
    "enrol_second_factor",
    "new_venue",
    "require_mfa_for_admins",
    "sign_in_with_second_factor",
]


@dataclass(frozen=True)
class Enrolled:
    """An account with a confirmed authenticator app and known recovery codes."""

    email: str
    user_id: uuid.UUID
    totp: pyotp.TOTP
    recovery_codes: tuple[str, ...]


def enrol_second_factor(admin_db: psycopg.Connection, issuer: Issuer, email: str) -> Enrolled:
    """Give ``email`` a confirmed TOTP secret (never used yet) and three recovery codes."""
    user_id = account_id(admin_db, email)
    secret = totp_codes.new_secret()
    sealed = issuer.secrets.seal(secret.encode(), associated_data=user_id.bytes)
    admin_db.execute(
        "INSERT INTO user_totp (user_id, secret_sealed, confirmed_at) VALUES (%s, %s, now())",
        (user_id, sealed),
    )
    codes = tuple(totp_codes.new_recovery_codes(3))
    for code in codes:
        admin_db.execute(
            "INSERT INTO mfa_recovery_codes (user_id, code_hash) VALUES (%s, %s)",
            (user_id, totp_codes.hash_recovery_code(code)),
        )
    return Enrolled(email, user_id, pyotp.TOTP(secret), codes)


def sign_in_with_second_factor(api: ApiClient, email: str, **factor: str) -> dict[str, Any]:
    """The whole sign-in of an enrolled account, as a browser and the SPA do it: password,
    then ``code`` or ``recovery_code`` on the second factor's page, then the code exchange.
    Returns the token response."""
    challenge = authorize(api, email)
    assert challenge.asks_for_second_factor, challenge.text
    done = answer_mfa(challenge, **factor)
    response = exchange(api, Started(done.code, done.verifier))
    assert response.status == 200, response.text
    tokens: dict[str, Any] = response.json()
    return tokens


def new_venue(admin_db: psycopg.Connection) -> uuid.UUID:
    """A venue of a group of its own, not requiring MFA (yet)."""
    venue_id, group_id = uuid.uuid4(), uuid.uuid4()
    admin_db.execute("INSERT INTO venue_groups (id, name) VALUES (%s, 'Test group')", (group_id,))
    admin_db.execute(
        "INSERT INTO venues (id, group_id, name, slug) VALUES (%s, %s, 'Test venue', %s)",
        (venue_id, group_id, f"t-{venue_id.hex[:12]}"),
    )
    admin_db.execute("INSERT INTO venue_settings (venue_id) VALUES (%s)", (venue_id,))
    return venue_id


def require_mfa_for_admins(admin_db: psycopg.Connection, venue_id: uuid.UUID, on: bool) -> None:
    admin_db.execute(
        "UPDATE venue_settings SET require_mfa_for_admins = %s WHERE venue_id = %s",
        (on, venue_id),
    )
