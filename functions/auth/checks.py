"""What every part of the issuer shares: the refusals, the brute-force throttle, the
second-factor check and the policies that decide who needs one (tokens by digest are
tenancy.links's)."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections.abc import Callable, Collection
from typing import Any

import psycopg

from auth import queries
from auth.config import Issuer
from tenancy.audit import record
from tenancy.permissions import ELEVATED, Role
from tenancy.problems import Problem

#: The one answer to a failed sign-in, whatever failed: unknown email, wrong password,
#: disabled account, wrong second factor or a lock. Nothing tells them apart.
GENERIC_REFUSAL = "the email or password is not right"
SCOPE_FULL = "account venue"
#: Someone who must enrol a second factor first: it opens the two enrolment routes
#: (declared with ``scope=("account", "mfa-enrolment")``) and nothing else.
SCOPE_ENROL_ONLY = "mfa-enrolment"
#: OpenID Connect's scopes: who signed in, never what they may do, so never narrowed.
IDENTITY_SCOPES = frozenset({"openid", "profile", "email"})
MFA_POLICY_ROLES = frozenset({Role.OWNER.value, Role.MANAGER.value, Role.REGIONAL_MANAGER.value})

#: How a person signed in (RFC 8176 method names) and the level that gives (``acr``). A
#: recovery code is a one-time password too: it proves the second factor like a TOTP code.
AMR_PASSWORD = ("pwd",)
AMR_SECOND_FACTOR = ("pwd", "otp")
ACR_LOA_1 = "urn:venue:loa:1"
ACR_LOA_2 = "urn:venue:loa:2"
#: The methods that count as a second factor (the gate counts the same).
SECOND_FACTORS = frozenset({"otp", "mfa"})


def refuse(detail: str = GENERIC_REFUSAL, **headers: str) -> Problem:
    return Problem(401, "access_denied", detail, headers=headers, keep_writes=True)


def invalid_grant(detail: str, *, keep_writes: bool = False) -> Problem:
    return Problem(400, "invalid_grant", detail, keep_writes=keep_writes)


# --- brute force ----------------------------------------------------------------------------


def locked_sign_in(wait_seconds: int) -> Problem:
    """A lock met on /oauth/*: the same answer as any failed sign-in, with Retry-After."""
    return refuse(**{"retry-after": str(wait_seconds)})


def locked_account_route(wait_seconds: int) -> Problem:
    """A lock met on an account route (/me/...): the token is fine, the attempts are not."""
    return Problem(
        429,
        "too-many-attempts",
        "too many wrong attempts on this account; try again later",
        headers={"retry-after": str(wait_seconds)},
    )


class Throttle:
    """Failure limits per identifier and per source IP, independent of each other.

    ``locked`` builds the refusal while a limit is reached, in the route's own terms."""

    def __init__(
        self,
        conn: psycopg.Connection,
        issuer: Issuer,
        identifier: str,
        ip: str,
        *,
        locked: Callable[[int], Problem] = locked_sign_in,
    ):
        self.conn = conn
        self.settings = issuer.settings
        self.keys = {"identifier": identifier.strip().lower(), "ip": ip}
        self._locked = locked
        queries.lock_throttle_keys(conn, *(f"{s}:{k}" for s, k in self.keys.items()))
        # Sent now, read by refuse_if_locked: it travels with what the caller queues next.
        self._standing: queries.Row | None = queries.throttle_standing(
            conn, self.keys["identifier"], ip, self.settings.signin_window_seconds
        )

    def _limit(self, scope: str) -> int:
        s = self.settings
        return (
            s.signin_max_failures_per_identifier
            if scope == "identifier"
            else s.signin_max_failures_per_ip
        )

    def refuse_if_locked(self) -> None:
        read, self._standing = self._standing, None
        if read is None:
            read = queries.throttle_standing(
                self.conn,
                self.keys["identifier"],
                self.keys["ip"],
                self.settings.signin_window_seconds,
            )
        standing = read()
        assert standing is not None
        now = standing["now"]
        for scope in self.keys:
            count, oldest = standing[f"{scope}_count"], standing[f"{scope}_oldest"]
            if count >= self._limit(scope) and oldest is not None:
                unlock = oldest + dt.timedelta(seconds=self.settings.signin_window_seconds)
                wait = max(1, math.ceil((unlock - now).total_seconds()))
                raise self._locked(wait)

    def failed(self, user_id: uuid.UUID | None) -> None:
        """Count a failure; reaching a limit is a lockout, which is audited."""
        for scope, key in self.keys.items():
            queries.record_failure(self.conn, scope, key)
            count, _ = queries.failures_in_window(
                self.conn, scope, key, self.settings.signin_window_seconds
            )
            if count == self._limit(scope):
                record(
                    self.conn,
                    action="auth.lockout",
                    venue_id=None,
                    actor_user_id=None,
                    target_type="user" if scope == "identifier" and user_id else scope,
                    target_id=user_id if scope == "identifier" and user_id else None,
                    details={"scope": scope, "window_seconds": self.settings.signin_window_seconds}
                    | ({"source_ip": key} if scope == "ip" else {}),
                    critical=True,
                )

    def succeeded(self) -> None:
        queries.clear_failures(self.conn, "identifier", self.keys["identifier"])


# --- the second factor and who must have one ------------------------------------------------


def check_second_factor(
    conn: psycopg.Connection,
    issuer: Issuer,
    throttle: Throttle,
    user: dict[str, Any],
    *,
    code: str | None,
    recovery_code: str | None,
) -> bool:
    """A current, never-used TOTP code or an unused recovery code of an enabled account;
    spends what it accepts. Every check goes through ``throttle``: refused while the account
    or the IP is locked, and a wrong code (or a disabled account) counts as a failure."""
    throttle.refuse_if_locked()
    if not user["disabled_at"] and _second_factor_matches(
        conn, issuer, user["id"], code=code, recovery_code=recovery_code
    ):
        return True
    throttle.failed(user["id"])
    return False


def _second_factor_matches(
    conn: psycopg.Connection,
    issuer: Issuer,
    user_id: uuid.UUID,
    *,
    code: str | None,
    recovery_code: str | None,
) -> bool:
    from auth import totp as totp_codes

    row = queries.totp(conn, user_id)
    if row is None or row["confirmed_at"] is None:
        return False
    if code is not None:
        secret = issuer.secrets.open(row["secret_sealed"], associated_data=user_id.bytes).decode()
        step = totp_codes.matching_step(secret, code, last_used_step=row["last_used_step"])
        if step is None:
            return False
        queries.use_totp_step(conn, user_id, step)
        return True
    if recovery_code is not None:
        return queries.use_recovery_code(
            conn, user_id, totp_codes.hash_recovery_code(recovery_code)
        )
    return False


def scope_for(
    conn: psycopg.Connection,
    user: dict[str, Any],
    amr: Collection[str],
    granted: str = SCOPE_FULL,
    *,
    policy: bool | None = None,
) -> str:
    """The scope a session of ``user``, signed in with ``amr``, gets today: ``granted``,
    unless a policy requires a second factor this session did not prove, then enrolment
    only (with the OpenID Connect scopes it was granted). The same rule at sign-in and at
    every refresh (so a venue turning its MFA setting on reaches sessions already open)."""
    if SECOND_FACTORS & set(amr):
        return granted
    required = mfa_required_by_policy(conn, user) if policy is None else policy
    if required:
        kept = [scope for scope in granted.split(" ") if scope in IDENTITY_SCOPES]
        return " ".join([*kept, SCOPE_ENROL_ONLY])
    return granted


def mfa_required_by_policy(conn: psycopg.Connection, user: dict[str, Any]) -> bool:
    """A platform admin, or an owner, manager or regional manager of a venue that requires a
    second factor of its admins."""
    if user["is_platform_admin"]:
        return True
    return queries.holds_role_at_venue_requiring_mfa(conn, user["id"], MFA_POLICY_ROLES)


def is_privileged(conn: psycopg.Connection, user_id: uuid.UUID, is_platform_admin: bool) -> bool:
    """Platform admins and anyone holding an elevated flag at any venue."""
    if is_platform_admin:
        return True
    return any(flags & ELEVATED for _, _, flags in queries.attachment_flags(conn, user_id))
