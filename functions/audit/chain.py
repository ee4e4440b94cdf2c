"""The hash chain: the canonical form of an event, its hash, and appending events to
``audit_log`` as the consumer does it (role app_audit).

Each venue has one chain (the platform's events, without a venue, another): row ``seq`` n
stores ``prev_hash``, the hash of row n-1 (32 zero bytes before the first), and
``hash = sha256(prev_hash || canonical JSON of the event)``. Appending takes a
transaction-scoped advisory lock on the venue first, so two consumers cannot fork a chain;
the event id is the primary key, so a redelivered event is found, not appended twice. The
same transaction marks the outbox row consumed (``published_at``) and decides the event's
alert (functions/audit/alerts.py).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from psycopg.types.json import Jsonb

from audit import alerts
from tenancy.db import GateConnection

__all__ = [
    "GENESIS",
    "Appended",
    "Logged",
    "TamperedRow",
    "append",
    "canonical",
    "event_from_outbox",
    "link",
    "lock_key",
    "object_key",
]

#: The ``prev_hash`` of a chain's first row.
GENESIS = bytes(32)
#: The version of the canonical event's shape (its ``v``).
EVENT_VERSION = 1


def canonical(event: Mapping[str, Any]) -> bytes:
    """The bytes that are hashed and copied to the bucket: JSON with sorted keys, no
    whitespace, UTF-8. Events come from jsonb, so reading a row back gives the same bytes."""
    return json.dumps(
        event, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    ).encode()


def link(prev_hash: bytes, content: bytes) -> bytes:
    """sha256(prev_hash || content)."""
    return hashlib.sha256(prev_hash + content).digest()


def lock_key(venue_id: uuid.UUID | None) -> int:
    """The advisory lock that serialises appends to one venue's chain."""
    name = b"audit-chain:" + (venue_id.bytes if venue_id else b"platform")
    return int.from_bytes(hashlib.sha256(name).digest()[:8], "big", signed=True)


def timestamp(moment: dt.datetime) -> str:
    """UTC, microseconds, ``Z``: one spelling, which also sorts as text."""
    return moment.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_from_outbox(row: Mapping[str, Any]) -> dict[str, Any]:
    """The canonical event of an outbox row (what the chain hashes and the bucket keeps)."""
    return {
        "v": EVENT_VERSION,
        "id": str(row["id"]),
        "venue_id": None if row["venue_id"] is None else str(row["venue_id"]),
        "actor_user_id": None if row["actor_user_id"] is None else str(row["actor_user_id"]),
        "action": row["action"],
        "target_type": row["target_type"],
        "target_id": row["target_id"],
        "details": row["details"],
        "critical": bool(row["critical"]),
        "occurred_at": timestamp(row["occurred_at"]),
    }


def object_key(venue_id: uuid.UUID | None, event: Mapping[str, Any], seq: int) -> str:
    """Where the bucket keeps an event: venue, date it occurred (UTC), sequence, event id."""
    venue = "platform" if venue_id is None else str(venue_id)
    day = str(event.get("occurred_at", ""))[:10] or "undated"
    return f"{venue}/{day}/{seq:012d}/{event.get('id')}.json"


@dataclass(frozen=True)
class Logged:
    """An event as ``audit_log`` holds it."""

    event_id: uuid.UUID
    venue_id: uuid.UUID | None
    seq: int
    prev_hash: bytes
    hash: bytes
    event: Mapping[str, Any]
    #: An alert was decided for this event and SNS has not taken it yet.
    alert_due: bool = False

    @property
    def content(self) -> bytes:
        return canonical(self.event)

    @property
    def key(self) -> str:
        return object_key(self.venue_id, self.event, self.seq)

    @property
    def intact(self) -> bool:
        """Whether the row's hash is the hash of its own content and predecessor."""
        return link(self.prev_hash, self.content) == self.hash


class TamperedRow(RuntimeError):
    """A logged row whose hash is not its content's: it is not copied anywhere."""


@dataclass(frozen=True)
class Appended:
    """What one append transaction found or wrote, by event id."""

    logged: Mapping[uuid.UUID, Logged]
    #: Ids the outbox does not have (a message naming an event nobody committed).
    missing: frozenset[uuid.UUID]
    #: Ids whose outbox row (or logged row) belongs to another chain than the message said.
    misdirected: frozenset[uuid.UUID]
    #: Ids the outbox says were consumed but the log does not have: a row removed behind
    #: the triggers' back. Never appended again (that would hide the gap): verify reports it.
    vanished: frozenset[uuid.UUID] = frozenset()


# Each named event with its outbox row and, if already logged, its row and whether its
# alert is still to be sent; and the chain's head. One statement, after the lock: in READ
# COMMITTED it sees every append committed before the lock was granted.
_FOUND = """
SELECT wanted.id,
       o.venue_id, o.actor_user_id, o.action, o.target_type, o.target_id, o.details,
       o.critical, o.occurred_at, o.published_at, o.id IS NOT NULL AS in_outbox,
       l.venue_id AS logged_venue, l.seq, l.prev_hash, l.hash, l.event,
       l.event_id IS NOT NULL AS logged,
       EXISTS (SELECT 1 FROM public.audit_alerts a
               WHERE a.event_id = l.event_id AND a.sent_at IS NULL) AS alert_due,
       head.seq AS head_seq, head.hash AS head_hash
FROM unnest(%(ids)s::uuid[]) AS wanted (id)
LEFT JOIN public.audit_outbox o ON o.id = wanted.id
LEFT JOIN public.audit_log l ON l.event_id = wanted.id
LEFT JOIN (SELECT seq, hash FROM public.audit_log
           WHERE {chain} ORDER BY seq DESC LIMIT 1) AS head ON true
"""
_FOUND_IN_VENUE = _FOUND.format(chain="venue_id = %(venue)s")
_FOUND_IN_PLATFORM = _FOUND.format(chain="venue_id IS NULL")

# The new rows, and their outbox rows marked consumed, in one statement.
_APPEND = """
WITH consumed AS (
    UPDATE public.audit_outbox SET published_at = now()
    WHERE id = ANY(%(ids)s) AND published_at IS NULL
)
INSERT INTO public.audit_log (event_id, venue_id, seq, prev_hash, hash, event)
SELECT * FROM unnest(%(ids)s::uuid[], %(venues)s::uuid[], %(seqs)s::bigint[],
                     %(prev_hashes)s::bytea[], %(hashes)s::bytea[], %(events)s::jsonb[])
"""


def _columns(cursor: Any) -> list[dict[str, Any]]:
    rows = cursor.fetchall()  # in pipeline mode, the description comes with the results
    names = [column.name for column in cursor.description]
    return [dict(zip(names, row, strict=True)) for row in rows]


def append(
    conn: GateConnection,
    venue_id: uuid.UUID | None,
    event_ids: Sequence[uuid.UUID],
    limits: alerts.Limits = alerts.DEFAULT_LIMITS,
) -> Appended:
    """Append the named events of one chain (``venue_id``), in the order given, in one
    transaction of two round trips; events already logged are returned as they are."""
    ids = list(dict.fromkeys(event_ids))
    with conn.request():
        conn.execute("BEGIN")
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(venue_id),))
        found = _columns(
            conn.execute(
                _FOUND_IN_PLATFORM if venue_id is None else _FOUND_IN_VENUE,
                {"ids": ids, "venue": venue_id},
            )
        )  # the first round trip
        by_id = {row["id"]: row for row in found}
        head = found[0] if found else {"head_seq": None, "head_hash": None}
        seq = int(head["head_seq"] or 0)
        prev_hash = bytes(head["head_hash"]) if head["head_hash"] is not None else GENESIS

        logged: dict[uuid.UUID, Logged] = {}
        new: list[Logged] = []
        missing: set[uuid.UUID] = set()
        misdirected: set[uuid.UUID] = set()
        vanished: set[uuid.UUID] = set()
        for event_id in ids:
            row = by_id[event_id]
            if row["logged"]:
                if row["logged_venue"] != venue_id:
                    misdirected.add(event_id)
                    continue
                logged[event_id] = Logged(
                    event_id,
                    venue_id,
                    int(row["seq"]),
                    bytes(row["prev_hash"]),
                    bytes(row["hash"]),
                    row["event"],
                    alert_due=bool(row["alert_due"]),
                )
            elif not row["in_outbox"]:
                missing.add(event_id)
            elif row["venue_id"] != venue_id:
                misdirected.add(event_id)
            elif row["published_at"] is not None:
                vanished.add(event_id)
            else:
                event = event_from_outbox(row)
                seq += 1
                digest = link(prev_hash, canonical(event))
                new.append(Logged(event_id, venue_id, seq, prev_hash, digest, event))
                prev_hash = digest

        if new:
            conn.execute(
                _APPEND,
                {
                    "ids": [item.event_id for item in new],
                    "venues": [venue_id] * len(new),
                    "seqs": [item.seq for item in new],
                    "prev_hashes": [item.prev_hash for item in new],
                    "hashes": [item.hash for item in new],
                    "events": [Jsonb(item.event) for item in new],
                },
            )
        decisions = [
            (item, alerts.take_token(conn, item, limits)) for item in new if item.event["critical"]
        ]
        conn.execute("COMMIT")
    granted = {item.event_id for item, cursor in decisions if cursor.fetchone() is not None}
    for item in new:
        due = item.event_id in granted
        logged[item.event_id] = dataclasses.replace(item, alert_due=True) if due else item
    return Appended(
        logged,
        missing=frozenset(missing),
        misdirected=frozenset(misdirected),
        vanished=frozenset(vanished),
    )


def chains(event_venues: Iterable[tuple[uuid.UUID, uuid.UUID | None]]) -> dict[Any, list[Any]]:
    """Event ids grouped by chain (venue), each group in the order given."""
    grouped: dict[uuid.UUID | None, list[uuid.UUID]] = {}
    for event_id, venue_id in event_venues:
        grouped.setdefault(venue_id, []).append(event_id)
    return grouped
