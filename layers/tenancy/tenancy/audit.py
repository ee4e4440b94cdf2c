"""The one audit API: every privileged mutation records its event in its own transaction.

``record`` writes the event to ``audit_outbox`` on the request's connection and notes it
there; once the request's transaction has committed, the gate hands the noted events to the
relay (``tenancy.relay``), which sends one message per event to the audit queue. The message
names the event; the audit consumer reads the event itself from the outbox
(docs/architecture.md, "The audit pipeline").
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

__all__ = [
    "CRITICAL_ACTIONS",
    "MESSAGE_VERSION",
    "PLATFORM_GROUP",
    "SENSITIVE_KEYS",
    "OutboxEvent",
    "UnreadableMessage",
    "note",
    "parse_message",
    "record",
]

#: Keys that must never reach the audit trail (docs/architecture.md, "Sensitive data"):
#: refused, not silently dropped, so the caller's mistake shows up in tests.
SENSITIVE_KEYS = frozenset(
    {"password", "pin", "token", "secret", "allergens", "dietary_notes", "code", "recovery_code"}
)

#: Actions that are always critical (an SNS alert, rate-limited), whatever the caller says:
#: platform-admin access to a venue and to the audit trail, lockouts of sign-ins and tills,
#: attempts to grant a flag one does not hold, large refunds, a failed verification of the
#: trail, and the issuer's replay detections.
CRITICAL_ACTIONS = frozenset(
    {
        "platform_admin.venue_access",
        "platform_admin.audit_read",
        "auth.lockout",
        "till.locked",
        "staff.flag_escalation_attempt",
        "refund.large",
        "audit.verification_failed",
        "auth.refresh_token_reused",
        "auth.code_replayed",
    }
)

#: The schema of the queue's messages; the consumer refuses any other.
MESSAGE_VERSION = 1
#: The message group of events without a venue (one FIFO group, like a venue's).
PLATFORM_GROUP = "platform"

_INSERT = """
INSERT INTO public.audit_outbox
    (id, venue_id, actor_user_id, action, target_type, target_id, details, critical)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""


@dataclass(frozen=True)
class OutboxEvent:
    """An event written to the outbox, as the relay names it in the audit queue."""

    id: uuid.UUID
    venue_id: uuid.UUID | None

    @property
    def group(self) -> str:
        """The FIFO message group: the venue, so one venue's events stay in order."""
        return PLATFORM_GROUP if self.venue_id is None else str(self.venue_id)

    def message_body(self) -> str:
        return json.dumps(
            {
                "v": MESSAGE_VERSION,
                "event_id": str(self.id),
                "venue_id": None if self.venue_id is None else str(self.venue_id),
            },
            separators=(",", ":"),
        )


class UnreadableMessage(ValueError):
    """A queue message that is not JSON, not an object, or not of a known schema version."""


def parse_message(body: str) -> OutboxEvent:
    """The event a queue message names; ``UnreadableMessage`` for anything else."""
    try:
        data = json.loads(body)
    except ValueError:
        raise UnreadableMessage("the message is not JSON") from None
    if not isinstance(data, dict):
        raise UnreadableMessage("the message is not a JSON object")
    if data.get("v") != MESSAGE_VERSION:
        raise UnreadableMessage("the message is of an unknown schema version")
    if set(data) != {"v", "event_id", "venue_id"}:
        raise UnreadableMessage("the message's fields are not those of its version")
    try:
        event_id = uuid.UUID(data["event_id"])
        venue = data["venue_id"]
        venue_id = None if venue is None else uuid.UUID(venue)
    except (TypeError, ValueError, AttributeError):
        raise UnreadableMessage("the message's ids are not UUIDs") from None
    return OutboxEvent(event_id, venue_id)


def note(conn: Any, event: OutboxEvent) -> None:
    """Remember ``event`` on the request's connection, for the relay after commit (a
    connection that is not the gate's, in a test or a script, remembers nothing)."""
    noted = getattr(conn, "audit_events", None)
    if isinstance(noted, list):
        noted.append(event)


def _check_details(details: Mapping[str, Any]) -> None:
    for key, value in details.items():
        if key.lower() in SENSITIVE_KEYS:
            raise ValueError(f"audit details must not carry {key!r}")
        if isinstance(value, Mapping):
            _check_details(value)


def record(
    conn: psycopg.Connection,
    *,
    action: str,
    venue_id: uuid.UUID | None,
    actor_user_id: uuid.UUID | None,
    target_type: str,
    target_id: str | uuid.UUID | None = None,
    details: Mapping[str, Any] | None = None,
    critical: bool = False,
) -> uuid.UUID:
    """Write the event to ``audit_outbox`` on ``conn``; it commits or rolls back with the change.

    The event id is made here, so the insert needs no answer: in a pipelined request it
    travels with the mutation and the COMMIT.
    """
    details = dict(details or {})
    _check_details(details)
    event_id = uuid.uuid4()
    conn.execute(
        _INSERT,
        (
            event_id,
            venue_id,
            actor_user_id,
            action,
            target_type,
            None if target_id is None else str(target_id),
            Jsonb(details),
            critical or action in CRITICAL_ACTIONS,
        ),
    )
    note(conn, OutboxEvent(event_id, venue_id))
    return event_id
