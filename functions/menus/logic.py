"""Per-venue pricing of the group's catalogue."""

import uuid
from collections.abc import Callable, Mapping
from typing import Any

import psycopg

from menus import queries
from menus.models import (
    CatalogueItem,
    CatalogueItemChange,
    ItemAvailability,
    NewCatalogueItem,
    VenueMenuItem,
)
from tenancy import Problem, not_found
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


def owner_required() -> Problem:
    return Problem(
        403,
        "owner-required",
        "only an owner of the group's venues edits the catalogue",
    )


def _catalogue_event(row: Mapping[str, Any]) -> dict[str, Any]:
    """What the audit trail keeps of an item: everything but its allergens."""
    return {key: row[key] for key in ("name", "description", "category", "active")}


def add_catalogue_item(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    item: NewCatalogueItem,
    actor_user_id: uuid.UUID,
    caller_role: Callable[[], str],
) -> CatalogueItem:
    """Add an item to the group of ``venue_id``; only an owner at that venue may.

    ``caller_role`` answers once the gate has decided (the group is read in the same trip).
    """
    pending = queries.send_group_of_venue(conn, venue_id)
    if caller_role() != "owner":
        raise owner_required()
    venue = pending.fetchone()
    assert venue is not None
    item_id = uuid.uuid4()
    values = {
        "id": item_id,
        "group": venue["group_id"],
        **item.model_dump(),
    }
    values["allergens"] = list(item.allergens)
    queries.insert_item(conn, values)
    record(
        conn,
        action="menu.catalogue_item_added",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="menu_item",
        target_id=item_id,
        details={
            "group_id": str(venue["group_id"]),
            "after": _catalogue_event(values),
            "allergens_listed": bool(item.allergens),
        },
    )
    return CatalogueItem(id=item_id, updated_at=venue["now"], **item.model_dump())


def change_catalogue_item(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    item_id: uuid.UUID,
    change: CatalogueItemChange,
    actor_user_id: uuid.UUID,
    caller_role: Callable[[], str],
) -> CatalogueItem:
    """Change an item of the group's catalogue (every venue of the group sees the change;
    no other group's venue can reach the item)."""
    pending = queries.send_item_for_change(conn, item_id)
    if caller_role() != "owner":
        raise owner_required()
    row = pending.fetchone()
    if row is None:
        raise not_found("menu item")
    after = {**row, **change.model_dump(exclude_unset=True)}
    after["allergens"] = list(after["allergens"])
    queries.update_item(conn, after)
    changed = sorted(
        key for key in ("name", "description", "category", "active") if after[key] != row[key]
    )
    record(
        conn,
        action="menu.catalogue_item_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="menu_item",
        target_id=item_id,
        details={
            "group_id": str(row["group_id"]),
            "before": {key: row[key] for key in changed},
            "after": {key: after[key] for key in changed},
            # Recorded as a fact, never as the lists themselves.
            "allergens_changed": sorted(after["allergens"]) != sorted(row["allergens"]),
        },
    )
    return CatalogueItem(
        id=row["id"],
        name=after["name"],
        description=after["description"],
        category=after["category"],
        allergens=after["allergens"],
        active=after["active"],
        updated_at=row["now"],
    )


def set_availability(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    item_id: uuid.UUID,
    available: bool,
    actor_user_id: uuid.UUID,
) -> ItemAvailability:
    """Turn the item on or off at this venue only."""
    row = queries.item_for_availability(conn, venue_id, item_id)
    if row is None:
        raise not_found("menu item")
    queries.write_availability(conn, venue_id, row["group_id"], item_id, available)
    previous = True if row["previous"] is None else row["previous"]
    record(
        conn,
        action="menu.availability_changed",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="menu_item",
        target_id=item_id,
        details={"before": {"available": previous}, "after": {"available": available}},
    )
    return ItemAvailability(item_id=item_id, available=available, updated_at=row["now"])
