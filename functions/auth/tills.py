"""Opening a till session: a staff PIN entered on a registered till, in exchange for a till
session's access token (docs/decisions.md, "Tills and PINs").

Wrong PINs are counted per device, whoever's PIN was tried, in ``sign_in_failures`` (scope
``till``), under a transaction-scoped advisory lock on the device, so parallel attempts are
counted exactly. Reaching the limit locks the device (a critical ``till.locked`` event)
until the oldest counted failure leaves the window. A right PIN forgives nothing: a member of
staff who knows their own PIN could otherwise interleave it with guesses at colleagues'.
Every refusal of a PIN is the same answer, whether or not the PIN is anyone's.
"""

from __future__ import annotations

import datetime as dt
import math
import secrets
import time
import uuid
from typing import Any

import psycopg

from auth import queries
from auth.config import Issuer
from auth.till_models import TillSessionOpened, TillStaffMember
from tenancy.audit import record
from tenancy.pins import PinPepper
from tenancy.problems import Problem
from tenancy.tokens import TILL_SESSION_SCOPE

__all__ = ["open_session", "pin_refused", "till_locked_out"]


def pin_refused() -> Problem:
    """The one answer to a PIN that opens nothing: unknown, another venue's, or a person who
    may no longer use it. Counted first (``keep_writes``), then refused."""
    return Problem(403, "pin-refused", "that PIN was not accepted", keep_writes=True)


def till_locked_out(wait_seconds: int) -> Problem:
    return Problem(
        429,
        "too-many-attempts",
        "too many wrong PINs on this till; try again later",
        headers={"retry-after": str(wait_seconds)},
    )


def till_session_token(
    issuer: Issuer,
    *,
    session_id: uuid.UUID,
    venue_id: uuid.UUID,
    staff_member_id: uuid.UUID,
    client_id: str,
    expires_at: dt.datetime,
) -> str:
    """An RFC 9068 access token of the till session: its subject is the staff member, its
    client the device; it lives until the session's end (the gate checks the session on
    every request, so a lock or a spell of inactivity ends it sooner)."""
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": issuer.settings.token_issuer,
        "aud": issuer.settings.token_audience,
        "sub": str(staff_member_id),
        "client_id": client_id,
        "scope": TILL_SESSION_SCOPE,
        "iat": now,
        "exp": int(expires_at.timestamp()),
        "jti": secrets.token_urlsafe(16),
        "sid": str(session_id),
        "venue": str(venue_id),
        "staff": str(staff_member_id),
    }
    return issuer.signer.sign(claims)


def _lock_device(conn: psycopg.Connection, client_id: str) -> None:
    """Serialise this device's PIN attempts until the transaction ends (the sign-in
    throttle's keys, in their own namespace)."""
    queries.lock_throttle_keys(conn, f"till:{client_id}")


def open_session(
    conn: psycopg.Connection,
    issuer: Issuer,
    pepper: PinPepper,
    *,
    client_id: str,
    venue_id: uuid.UUID,
    pin: str,
) -> TillSessionOpened:
    """Two round trips: the gate's device check, the device's lock and the attempt's
    standing; then the session (or the counted failure), its audit event and the COMMIT."""
    settings = issuer.settings
    digests = pepper.digests(venue_id, pin)
    _lock_device(conn, client_id)
    attempt = queries.till_pin_attempt(
        conn,
        client_id=client_id,
        venue_id=venue_id,
        keys=[d.key_id for d in digests],
        digests=[d.digest for d in digests],
        window_seconds=settings.till_pin_window_seconds,
    )
    failures = int(attempt["failures"])
    limit = settings.till_pin_max_failures
    if failures >= limit:
        unlock = attempt["oldest"] + dt.timedelta(seconds=settings.till_pin_window_seconds)
        raise till_locked_out(max(1, math.ceil((unlock - attempt["now"]).total_seconds())))
    if len(attempt["staff_ids"]) != 1:
        queries.record_failure(conn, "till", client_id)
        if failures + 1 == limit:
            record(
                conn,
                action="till.locked",
                venue_id=None,
                actor_user_id=None,
                target_type="till",
                target_id=client_id,
                details={
                    "venue_id": str(venue_id),
                    "failures": limit,
                    "window_seconds": settings.till_pin_window_seconds,
                },
                critical=True,
            )
        raise pin_refused()

    staff_id: uuid.UUID = attempt["staff_ids"][0]
    session_id = uuid.uuid4()
    expires_at = attempt["now"] + dt.timedelta(seconds=settings.till_session_absolute_seconds)
    queries.end_device_till_sessions(conn, client_id)
    queries.insert_till_session(
        conn,
        session_id=session_id,
        venue_id=venue_id,
        client_id=client_id,
        staff_member_id=staff_id,
        idle_seconds=settings.till_session_idle_seconds,
        expires_at=expires_at,
    )
    record(
        conn,
        action="till.session_opened",
        venue_id=None,
        actor_user_id=attempt["user_ids"][0],
        target_type="till_session",
        target_id=session_id,
        details={
            "venue_id": str(venue_id),
            "client_id": client_id,
            "staff_member_id": str(staff_id),
        },
    )
    token = till_session_token(
        issuer,
        session_id=session_id,
        venue_id=venue_id,
        staff_member_id=staff_id,
        client_id=client_id,
        expires_at=expires_at,
    )
    return TillSessionOpened(
        access_token=token,
        expires_in=max(0, int((expires_at - attempt["now"]).total_seconds())),
        session_id=session_id,
        venue_id=venue_id,
        staff_member=TillStaffMember(
            id=staff_id, display_name=attempt["names"][0], role=attempt["roles"][0]
        ),
        expires_at=expires_at,
        idle_timeout_seconds=settings.till_session_idle_seconds,
    )
