"""Per-venue pricing of the group's catalogue."""

import uuid

import psycopg

from menus import queries
from menus.models import VenueMenuItem
from tenancy import not_found
from tenancy.audit import record


def change_price(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    item_id: uuid.UUID,
    price_cents: int,
    actor_user_id: uuid.UUID,
) -> VenueMenuItem:
    """Set the item's price at this venue; other venues of the group keep theirs."""
    row = queries.item_for_price_change(conn, venue_id, item_id)
    if row is None:
        raise not_found("menu item")
    queries.write_price(conn, venue_id, row["group_id"], item_id, price_cents)
    record(
        conn,
        action="menu.price_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="menu_item",
        target_id=item_id,
        details={
            "previous_price_cents": row["previous_price_cents"],
            "price_cents": price_cents,
        },
    )
    return VenueMenuItem(
        id=row["id"],
        name=row["name"],
        description=row["description"],
        price_cents=price_cents,
        currency=row["currency"].strip(),
        price_updated_at=row["now"],
    )
