"""Orders: taken at a till (or in the admin app) at the venue's open shift, priced by the
venue, numbered without gaps, moved through the state machine of ``orders.states``."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import psycopg

from orders import invoicing, queries, states
from orders.models import NewOrder, OrderDetail, OrderMoved
from tenancy import Permission, Problem, not_found
from tenancy.audit import record
from tenancy.order_book import lock_counter, require_on_menu


def no_open_shift() -> Problem:
    return Problem(409, "no-open-shift", "this venue has no open shift: open one first")


def create_order(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    order: NewOrder,
    staff_member_id: uuid.UUID | None,
    user_id: uuid.UUID | None,
) -> OrderDetail:
    """Take ``order`` at the venue. Two round trips: the counter's lock and everything read
    travel with the gate's read; the writes go with the COMMIT, unawaited. The same
    idempotency key returns the order it made, whatever the body says now."""
    item_ids = sorted({line.item_id for line in order.lines})
    counter = lock_counter(conn, venue_id)
    context_cursor = queries.order_context(
        conn,
        venue_id,
        key=order.idempotency_key,
        staff_member_id=staff_member_id,
        user_id=user_id,
        item_ids=item_ids,
    )
    locked = counter.fetchone()
    context = context_cursor.fetchone()
    assert locked is not None
    assert context is not None
    if context["replay"] is not None:
        return OrderDetail.model_validate_json(context["replay"])
    if context["shift_id"] is None:
        raise no_open_shift()
    priced: dict[str, dict[str, Any]] = context["priced"]
    require_on_menu(item_ids, priced)
    order_id = uuid.uuid4()
    number = int(locked[0]) + 1
    names = [priced[str(line.item_id)]["name"] for line in order.lines]
    prices = [int(priced[str(line.item_id)]["price_cents"]) for line in order.lines]
    total = sum(price * line.quantity for price, line in zip(prices, order.lines, strict=True))
    queries.write_order(
        conn,
        id=order_id,
        venue=venue_id,
        number=number,
        table=order.table_label,
        staff=context["staff_member_id"],
        total=total,
        shift=context["shift_id"],
        key=order.idempotency_key,
        item_ids=[line.item_id for line in order.lines],
        names=names,
        quantities=[line.quantity for line in order.lines],
        prices=prices,
    )
    return OrderDetail.model_validate(
        {
            "id": order_id,
            "number": number,
            "status": "placed",
            "channel": "till",
            "table_label": order.table_label,
            "total_cents": total,
            "created_at": context["now"],
            "updated_at": context["now"],
            "shift_id": context["shift_id"],
            "staff_member_id": context["staff_member_id"],
            "cancel_reason": None,
            "items": sorted(
                (
                    {
                        "item_id": line.item_id,
                        "name": name,
                        "quantity": line.quantity,
                        "unit_price_cents": price,
                    }
                    for line, name, price in zip(order.lines, names, prices, strict=True)
                ),
                key=lambda item: (item["name"], str(item["item_id"])),
            ),
        }
    )


def move_order(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    order_id: uuid.UUID,
    action: states.Action,
    reason: str | None,
    held: Callable[[], Permission],
    actor_user_id: Callable[[], uuid.UUID | None],
    staff_member_id: uuid.UUID | None = None,
) -> OrderMoved:
    """Move the order by ``action``: looked up in the state machine against the order's
    status (locked) and the caller's flags. Closing issues the order's tax invoice in the same
    transaction. Two round trips: the locks and reads with the gate's, the writes unawaited
    with the COMMIT. ``held`` and ``actor_user_id`` are asked once the order's row is read
    (asking the gate before would cost a round trip of its own)."""
    order_cursor = queries.order_for_transition(conn, venue_id, order_id)
    # Locked after the order: closes of different orders queue on the venue's counter only.
    issuing = invoicing.queue_issue(conn, venue_id, order_id) if action == "close" else None
    row = order_cursor.fetchone()
    if row is None:
        raise not_found("order")
    current: states.Status = row["status"]
    found = states.transition(current, action, held(), reason)
    queries.move_order(
        conn,
        venue=venue_id,
        order=order_id,
        to=found.to,
        reason=reason if found.needs_reason else None,
        **{"from": current},
    )
    invoice = None
    if issuing is not None:
        invoice = invoicing.issue(conn, venue_id, order_id, issuing)
    if found.audited:
        record(
            conn,
            action=f"order.{action}",
            venue_id=venue_id,
            actor_user_id=actor_user_id(),
            target_type="order",
            target_id=order_id,
            details={
                "number": row["number"],
                "from": current,
                "to": found.to,
                "reason": reason,
                "total_cents": row["total_cents"],
                "staff_member_id": str(staff_member_id) if staff_member_id else None,
            },
        )
    return OrderMoved(
        id=order_id,
        number=row["number"],
        status=found.to,
        previous_status=current,
        invoice=invoice,
    )
