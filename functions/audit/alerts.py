"""Alerts for critical events (platform-admin access, lockouts, escalation attempts, large
refunds, a failed verification, ...): published to the SNS alerts topic, rate-limited per
venue and kind by a token bucket in Postgres (``audit_alert_buckets``).

A bucket holds up to ``burst`` tokens and earns one back every ``refill_seconds``; an alert
takes one. Without a token the alert is held back and counted; the sweeper later publishes
one summary per bucket saying how many were held back since when. The decision is taken in
the transaction that appends the event, and an allowed alert is remembered
(``audit_alerts``) until SNS has taken it, so a crash between the two neither loses the
alert nor, once sent, sends it twice.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from tenancy.db import GateConnection

if TYPE_CHECKING:
    from audit.chain import Logged

__all__ = [
    "DEFAULT_LIMITS",
    "Limits",
    "Publisher",
    "deliver",
    "flush_summaries",
    "resend_unsent",
    "take_token",
    "try_alert",
]


@dataclass(frozen=True)
class Limits:
    #: Alerts one venue may raise of one kind at once.
    burst: int = 5
    #: Seconds to earn back one alert.
    refill_seconds: float = 60.0


DEFAULT_LIMITS = Limits()

_ENSURE = """
INSERT INTO public.audit_alert_buckets (venue_id, kind, tokens, refilled_at)
VALUES (%(venue)s, %(kind)s, %(burst)s, now())
ON CONFLICT (venue_id, kind) DO NOTHING
"""

# SET expressions all read the row as it was, so LEVEL is the refilled level before taking.
_LEVEL = (
    "least(%(burst)s::float8,"
    " tokens + extract(epoch FROM now() - refilled_at)::float8 / %(refill)s::float8)"
)
_TAKE = f"""
UPDATE public.audit_alert_buckets SET
    tokens = {_LEVEL} - CASE WHEN {_LEVEL} >= 1 THEN 1 ELSE 0 END,
    held = held + CASE WHEN {_LEVEL} >= 1 THEN 0 ELSE 1 END,
    first_held_at = CASE WHEN {_LEVEL} >= 1 THEN first_held_at
                         ELSE coalesce(first_held_at, now()) END,
    last_allowed = {_LEVEL} >= 1,
    refilled_at = now()
WHERE venue_id IS NOT DISTINCT FROM %(venue)s AND kind = %(kind)s
RETURNING last_allowed
"""

# An event's alert: allowed ones are remembered until sent (a row comes back when allowed).
_TAKE_FOR_EVENT = f"""
WITH taken AS ({_TAKE})
INSERT INTO public.audit_alerts (event_id, kind)
SELECT %(event)s, %(kind)s FROM taken WHERE taken.last_allowed
RETURNING event_id
"""

_SENT = "UPDATE public.audit_alerts SET sent_at = now() WHERE event_id = %s AND sent_at IS NULL"


def _params(venue_id: uuid.UUID | None, kind: str, limits: Limits) -> dict[str, Any]:
    return {
        "venue": venue_id,
        "kind": kind,
        "burst": limits.burst,
        "refill": limits.refill_seconds,
    }


def take_token(conn: GateConnection, logged: Logged, limits: Limits) -> Any:
    """Queue the bucket's decision for ``logged`` in the caller's transaction; the cursor
    returned yields a row once committed if the alert was allowed."""
    params = _params(logged.venue_id, str(logged.event["action"]), limits)
    conn.execute(_ENSURE, params)
    return conn.execute(_TAKE_FOR_EVENT, {**params, "event": logged.event_id})


class Publisher:
    """Publishes to the alerts topic; without a topic (a local run without one) it only
    logs that it would have."""

    def __init__(self, topic_arn: str, client: Callable[[], Any] | None = None) -> None:
        self.topic_arn = topic_arn
        self._make_client = client or _sns_client
        self._client: Any = None
        self._lock = threading.Lock()

    def _sns(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def publish(self, subject: str, message: Mapping[str, Any]) -> None:
        if not self.topic_arn:
            return
        self._sns().publish(
            TopicArn=self.topic_arn,
            Subject=subject[:100],
            Message=json.dumps(message, sort_keys=True, default=str),
        )

    def event(self, logged: Logged) -> None:
        event = logged.event
        self.publish(
            f"Critical audit event: {event['action']}",
            {
                "alert": "critical audit event",
                "action": event["action"],
                "venue_id": event.get("venue_id"),
                "event_id": str(logged.event_id),
                "seq": logged.seq,
                "actor_user_id": event.get("actor_user_id"),
                "target_type": event.get("target_type"),
                "target_id": event.get("target_id"),
                "occurred_at": event.get("occurred_at"),
            },
        )

    def summary(
        self, venue_id: uuid.UUID | None, kind: str, held: int, since: dt.datetime | None
    ) -> None:
        self.publish(
            f"{held} critical audit alerts held back: {kind}",
            {
                "alert": "held back",
                "action": kind,
                "venue_id": None if venue_id is None else str(venue_id),
                "held_back": held,
                "since": None if since is None else since.isoformat(),
            },
        )


def _sns_client() -> Any:
    import boto3

    return boto3.client("sns")


def deliver(conn: GateConnection, publisher: Publisher, logged: Logged) -> None:
    """Publish ``logged``'s allowed alert, then remember it was sent."""
    publisher.event(logged)
    with conn.request():
        conn.execute(_SENT, (logged.event_id,))


def try_alert(
    conn: GateConnection,
    publisher: Publisher,
    venue_id: uuid.UUID | None,
    kind: str,
    subject: str,
    message: Mapping[str, Any],
    limits: Limits = DEFAULT_LIMITS,
) -> bool:
    """An alert that is not an event of the trail (a failed verification): through the
    same bucket; published when allowed. Whether it was."""
    params = _params(venue_id, kind, limits)
    with conn.request():
        conn.execute("BEGIN")
        conn.execute(_ENSURE, params)
        taken = conn.execute(_TAKE, params)
        conn.execute("COMMIT")
    row = taken.fetchone()
    allowed = bool(row and row[0])
    if allowed:
        publisher.publish(subject, message)
    return allowed


_HELD = """
SELECT venue_id, kind, held, first_held_at FROM public.audit_alert_buckets
WHERE held > 0
ORDER BY first_held_at
FOR UPDATE SKIP LOCKED
"""
_RESET = """
UPDATE public.audit_alert_buckets SET held = 0, first_held_at = NULL
WHERE venue_id IS NOT DISTINCT FROM %s AND kind = %s
"""


def flush_summaries(conn: GateConnection, publisher: Publisher) -> int:
    """One summary per bucket that held alerts back since the last one; how many sent."""
    with conn.request():
        conn.execute("BEGIN")
        held = conn.execute(_HELD).fetchall()
        for venue_id, kind, count, since in held:
            publisher.summary(venue_id, kind, int(count), since)
            conn.execute(_RESET, (venue_id, kind))
        conn.execute("COMMIT")
    return len(held)


_UNSENT = """
SELECT l.event_id, l.venue_id, l.seq, l.prev_hash, l.hash, l.event
FROM public.audit_alerts a JOIN public.audit_log l ON l.event_id = a.event_id
WHERE a.sent_at IS NULL AND a.decided_at < now() - make_interval(secs => %(after)s)
ORDER BY a.decided_at
LIMIT %(limit)s
"""


def resend_unsent(
    conn: GateConnection, publisher: Publisher, older_than: dt.timedelta, limit: int = 100
) -> int:
    """Alerts allowed but never sent (their message went to the DLQ after the append):
    published now. How many."""
    from audit.chain import Logged

    with conn.request():
        rows = conn.execute(
            _UNSENT, {"after": older_than.total_seconds(), "limit": limit}
        ).fetchall()
    for event_id, venue_id, seq, prev_hash, digest, event in rows:
        logged = Logged(event_id, venue_id, int(seq), bytes(prev_hash), bytes(digest), event)
        deliver(conn, publisher, logged)
    return len(rows)
