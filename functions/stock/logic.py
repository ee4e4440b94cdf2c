"""Stock counts: one per catalogue item per venue per day of the venue's calendar."""

import datetime as dt
import uuid

import psycopg

from stock import queries
from stock.models import StockCount
from tenancy import Problem, not_found
from tenancy.audit import record

#: How far back a count may be corrected.
CORRECTION_DAYS = 7


def record_count(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    item_id: uuid.UUID,
    quantity: int,
    day: dt.date | None,
    actor_user_id: uuid.UUID,
) -> StockCount:
    """Record today's count of the item, or correct a count of the last week."""
    row = queries.item_and_today(conn, venue_id, item_id, day)
    if row is None:
        raise not_found("menu item")
    today: dt.date = row["today"]
    if row["day"] > today or row["day"] < today - dt.timedelta(days=CORRECTION_DAYS):
        raise Problem(
            422,
            "count-day-out-of-range",
            f"a count is for today or a correction of the last {CORRECTION_DAYS} days",
        )
    queries.write(
        conn,
        {
            "venue": venue_id,
            "group": row["group_id"],
            "item": item_id,
            "day": row["day"],
            "quantity": quantity,
            "user": actor_user_id,
        },
    )
    if row["previous"] is not None:
        record(
            conn,
            action="stock.count_corrected",
            venue_id=venue_id,
            actor_user_id=actor_user_id,
            target_type="menu_item",
            target_id=item_id,
            details={
                "day": row["day"].isoformat(),
                "before": {"quantity": row["previous"]},
                "after": {"quantity": quantity},
            },
        )
    return StockCount(
        item_id=item_id,
        name=row["name"],
        day=row["day"],
        quantity=quantity,
        counted_by=actor_user_id,
        counted_at=row["now"],
    )
