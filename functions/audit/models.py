"""The audit trail's read API: filters, pages and entries."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import uuid
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

ACTION = r"^[a-z_]+(\.[a-z_]+)+$"


def encode_cursor(position: dict[str, Any]) -> str:
    """An opaque cursor: where the next page starts (URL-safe)."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> dict[str, Any]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        position = json.loads(raw)
    except (binascii.Error, ValueError):
        raise ValueError("not a cursor this API gave") from None
    if not isinstance(position, dict):
        raise ValueError("not a cursor this API gave")
    return position


class AuditQuery(BaseModel):
    """Filters of a venue's trail; every one optional, all of them ANDed."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Events by this person.
    actor: uuid.UUID | None = None
    #: Events of this action, e.g. ``menu.price_changed``.
    action: str | None = Field(default=None, pattern=ACTION, max_length=100)
    #: Events that occurred on or after this day (UTC).
    since: dt.date | None = None
    #: Events that occurred on or before this day (UTC).
    until: dt.date | None = None
    #: ``next_cursor`` of the previous page.
    cursor: str | None = Field(default=None, max_length=200)
    limit: int = Field(default=50, ge=1, le=200)

    @field_validator("cursor")
    @classmethod
    def _cursor_is_ours(cls, cursor: str | None) -> str | None:
        if cursor is not None:
            cls.position(cursor)
        return cursor

    @classmethod
    def position(cls, cursor: str) -> dict[str, Any]:
        """Where a venue's page starts: before this sequence number."""
        position = decode_cursor(cursor)
        if set(position) != {"seq"} or type(position["seq"]) is not int:
            raise ValueError("not a cursor this API gave")
        return position

    @model_validator(mode="after")
    def _days_in_order(self) -> AuditQuery:
        if self.since and self.until and self.since > self.until:
            raise ValueError("since is after until")
        return self

    def occurred_bounds(self) -> tuple[str | None, str | None]:
        """[since, until + 1 day) as text: the canonical ``occurred_at`` sorts as text."""
        since = self.since.isoformat() if self.since else None
        until = (self.until + dt.timedelta(days=1)).isoformat() if self.until else None
        return since, until


class PlatformAuditQuery(AuditQuery):
    """Filters of every trail: one venue's, the platform's own (``platform``), or all."""

    venue: uuid.UUID | Literal["platform"] | None = None

    @classmethod
    def position(cls, cursor: str) -> dict[str, Any]:
        """Where a page across chains starts: before this (recorded_at, event_id)."""
        position = decode_cursor(cursor)
        try:
            if set(position) != {"at", "id"}:
                raise ValueError
            at = dt.datetime.fromisoformat(position["at"])
            uuid.UUID(position["id"])
        except (TypeError, ValueError, AttributeError):
            raise ValueError("not a cursor this API gave") from None
        if at.tzinfo is None:
            raise ValueError("not a cursor this API gave")
        return position


class AuditEntry(BaseModel):
    """One row of the trail: the event exactly as it was hashed, and its chain links."""

    seq: int
    event_id: uuid.UUID
    venue_id: uuid.UUID | None
    recorded_at: dt.datetime
    prev_hash: str
    hash: str
    event: dict[str, Any]


class AuditPage(BaseModel):
    entries: list[AuditEntry]
    #: Pass it as ``cursor`` for the next page; null on the last one.
    next_cursor: str | None
