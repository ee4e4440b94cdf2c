"""The one audit API: every privileged mutation records its event in its own transaction."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

__all__ = ["SENSITIVE_KEYS", "record"]

#: Keys that must never reach the audit trail (docs/architecture.md, "Sensitive data"):
#: refused, not silently dropped, so the caller's mistake shows up in tests.
SENSITIVE_KEYS = frozenset(
    {"password", "pin", "token", "secret", "allergens", "dietary_notes", "code", "recovery_code"}
)

_INSERT = """
INSERT INTO public.audit_outbox
    (id, venue_id, actor_user_id, action, target_type, target_id, details, critical)
VALUES (%s, %s, %s, %s, %s, %s, %s, %s)
"""


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
            critical,
        ),
    )
    return event_id
