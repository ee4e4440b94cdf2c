"""SQL of the trail's read routes (role app_venue, through the read policies of
0012_audit_pipeline.sql: a venue's rows with VIEW_AUDIT, every row for a platform admin)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import psycopg

from audit.models import AuditEntry, AuditPage, AuditQuery, PlatformAuditQuery
from audit.models import encode_cursor as encode

_COLUMNS = """
SELECT seq, event_id, venue_id, recorded_at, encode(prev_hash, 'hex'), encode(hash, 'hex'),
       event
FROM public.audit_log
"""

_FILTERS = """
  AND (%(actor)s::text IS NULL OR event->>'actor_user_id' = %(actor)s)
  AND (%(action)s::text IS NULL OR event->>'action' = %(action)s)
  AND (%(since)s::text IS NULL OR event->>'occurred_at' >= %(since)s)
  AND (%(until)s::text IS NULL OR event->>'occurred_at' < %(until)s)
"""

VENUE_PAGE = f"""{_COLUMNS}
WHERE venue_id = %(venue)s
  AND (%(before)s::bigint IS NULL OR seq < %(before)s){_FILTERS}
ORDER BY seq DESC
LIMIT %(fetch)s
"""

PLATFORM_PAGE = f"""{_COLUMNS}
WHERE (%(venue)s::text IS NULL
       OR (%(venue)s = 'platform' AND venue_id IS NULL)
       OR venue_id::text = %(venue)s)
  AND (%(before_at)s::timestamptz IS NULL
       OR (recorded_at, event_id) < (%(before_at)s::timestamptz, %(before_id)s::uuid)){_FILTERS}
ORDER BY recorded_at DESC, event_id DESC
LIMIT %(fetch)s
"""


def _params(query: AuditQuery) -> dict[str, Any]:
    since, until = query.occurred_bounds()
    return {
        "actor": None if query.actor is None else str(query.actor),
        "action": query.action,
        "since": since,
        "until": until,
        "fetch": query.limit + 1,
    }


def _entries(rows: list[tuple[Any, ...]]) -> list[AuditEntry]:
    return [
        AuditEntry(
            seq=seq,
            event_id=event_id,
            venue_id=venue_id,
            recorded_at=recorded_at,
            prev_hash=prev_hash,
            hash=digest,
            event=event,
        )
        for seq, event_id, venue_id, recorded_at, prev_hash, digest, event in rows
    ]


def venue_page(conn: psycopg.Connection, venue_id: uuid.UUID, query: AuditQuery) -> AuditPage:
    """One page of the venue's chain, newest first."""
    before = query.position(query.cursor)["seq"] if query.cursor else None
    params = {**_params(query), "venue": venue_id, "before": before}
    rows = conn.execute(VENUE_PAGE, params).fetchall()
    entries = _entries(rows[: query.limit])
    more = len(rows) > query.limit
    return AuditPage(
        entries=entries, next_cursor=encode({"seq": entries[-1].seq}) if more else None
    )


def platform_page(conn: psycopg.Connection, query: PlatformAuditQuery) -> AuditPage:
    """One page across chains, newest recorded first."""
    position = query.position(query.cursor) if query.cursor else {}
    params = {
        **_params(query),
        "venue": None if query.venue is None else str(query.venue),
        "before_at": position.get("at"),
        "before_id": position.get("id"),
    }
    rows = conn.execute(PLATFORM_PAGE, params).fetchall()
    entries = _entries(rows[: query.limit])
    more = len(rows) > query.limit
    last = entries[-1] if more else None
    return AuditPage(
        entries=entries,
        next_cursor=encode({"at": _at(last.recorded_at), "id": str(last.event_id)})
        if last
        else None,
    )


def _at(moment: dt.datetime) -> str:
    return moment.astimezone(dt.UTC).isoformat()
