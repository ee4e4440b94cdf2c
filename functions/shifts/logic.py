"""A venue's shifts: one open at a time; closing and reopening are separate permissions."""

import uuid
from typing import Any

import psycopg

from shifts import queries
from shifts.models import Shift
from tenancy import Problem, not_found
from tenancy.audit import record


def _already_open(shift_id: uuid.UUID) -> Problem:
    return Problem(
        409,
        "shift-already-open",
        "this venue already has an open shift: close it first",
        open_shift_id=str(shift_id),
    )


def _shift(row: dict[str, Any], **changes: Any) -> Shift:
    return Shift.model_validate({**row, **changes})


def open_shift(conn: psycopg.Connection, *, venue_id: uuid.UUID, actor_user_id: uuid.UUID) -> Shift:
    """Open the venue's shift; refused while another is open."""
    row = queries.open_shift_now(conn, venue_id)
    if row["open_shift_id"] is not None:
        raise _already_open(row["open_shift_id"])
    shift_id = uuid.uuid4()
    queries.insert_shift(conn, shift_id, venue_id, actor_user_id)
    record(
        conn,
        action="shift.opened",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="shift",
        target_id=shift_id,
    )
    return Shift(
        id=shift_id,
        status="open",
        opened_at=row["now"],
        opened_by=actor_user_id,
        closed_at=None,
        closed_by=None,
        reopened_at=None,
        reopened_by=None,
        reopen_count=0,
    )


def close_shift(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    shift_id: uuid.UUID,
    actor_user_id: uuid.UUID,
) -> Shift:
    row = queries.shift_for_update(conn, venue_id, shift_id, lock_venue=False)
    if row is None:
        raise not_found("shift")
    if row["status"] != "open":
        raise Problem(409, "shift-not-open", "this shift is already closed")
    queries.close_shift(conn, shift_id, actor_user_id)
    record(
        conn,
        action="shift.closed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="shift",
        target_id=shift_id,
        details={"opened_at": row["opened_at"].isoformat()},
    )
    return _shift(row, status="closed", closed_at=row["now"], closed_by=actor_user_id)


def reopen_shift(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    shift_id: uuid.UUID,
    actor_user_id: uuid.UUID,
) -> Shift:
    """Reopen a closed shift (REOPEN_SHIFT), unless another shift is open meanwhile."""
    row = queries.shift_for_update(conn, venue_id, shift_id, lock_venue=True)
    if row is None:
        raise not_found("shift")
    if row["status"] != "closed":
        raise Problem(409, "shift-not-closed", "only a closed shift can be reopened")
    if row["other_open_id"] is not None:
        raise _already_open(row["other_open_id"])
    queries.reopen_shift(conn, shift_id, actor_user_id)
    record(
        conn,
        action="shift.reopened",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="shift",
        target_id=shift_id,
        details={
            "before": {
                "closed_at": row["closed_at"].isoformat(),
                "closed_by": str(row["closed_by"]),
                "reopen_count": row["reopen_count"],
            },
            "after": {"closed_at": None, "reopen_count": row["reopen_count"] + 1},
        },
    )
    return _shift(
        row,
        status="open",
        closed_at=None,
        closed_by=None,
        reopened_at=row["now"],
        reopened_by=actor_user_id,
        reopen_count=row["reopen_count"] + 1,
    )
