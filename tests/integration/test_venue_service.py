"""The venue's service: the group's catalogue, each venue's menu and prices, shifts, stock
counts, settings and the sales summary, through the routes as people meet them."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from typing import Any

import psycopg

from infra.local.client import ApiClient
from infra.local.seed import (
    CENTRALE,
    GROUP_IO,
    LUME,
    MENU_DETAILS,
    NORD,
    USER,
    menu_item_id,
)
from menus.models import ALLERGENS
from tenancy import ROLE_DEFAULTS, Role
from tests.support.demo_users import account_id, copy_of_demo_user
from tests.support.second_factor import new_venue

TIRAMISU = menu_item_id("Tiramisù")
RISOTTO = menu_item_id("Risotto ai funghi")
NEGRONI = menu_item_id("Negroni")


def menu_of(api: ApiClient, venue: uuid.UUID, as_user: uuid.UUID) -> dict[str, Any]:
    response = api.get(f"/venues/{venue}/menu", as_user=as_user)
    assert response.status == 200, response.text
    return {item["id"]: item for item in response.json()["items"]}


def latest_event(admin_db: psycopg.Connection, action: str) -> tuple[Any, ...]:
    row = admin_db.execute(
        "SELECT venue_id, actor_user_id, details, critical FROM audit_outbox"
        " WHERE action = %s ORDER BY occurred_at DESC LIMIT 1",
        (action,),
    ).fetchone()
    assert row is not None, action
    return tuple(row)


def manager_of(admin_db: psycopg.Connection, venue: uuid.UUID) -> uuid.UUID:
    """A new account (the demo password) attached to ``venue`` as its manager, and only there."""
    user = account_id(
        admin_db, copy_of_demo_user(admin_db, USER["manager"], with_attachments=False)
    )
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'manager', %s)",
        (venue, user, int(ROLE_DEFAULTS[Role.MANAGER])),
    )
    return user


# --- menu and prices ---------------------------------------------------------------------


def test_the_menu_shows_each_venue_its_own_price_after_nord_changes_one(
    api: ApiClient,
) -> None:
    """Given the tiramisù on the menus of centrale and nord, when nord's manager changes
    nord's price, then nord's menu shows the new price and centrale's menu its old one."""
    centrale_before = menu_of(api, CENTRALE, USER["regional"].id)[str(TIRAMISU)]
    nord_before = menu_of(api, NORD, USER["regional"].id)[str(TIRAMISU)]

    response = api.patch(
        f"/venues/{NORD}/menu/items/{TIRAMISU}",
        as_user=USER["manager"].id,
        json_body={"price_cents": nord_before["price_cents"] + 30},
    )

    assert response.status == 200, response.text
    nord_after = menu_of(api, NORD, USER["regional"].id)[str(TIRAMISU)]
    centrale_after = menu_of(api, CENTRALE, USER["regional"].id)[str(TIRAMISU)]
    assert nord_after["price_cents"] == nord_before["price_cents"] + 30
    assert centrale_after == centrale_before
    assert sorted(nord_after["allergens"]) == sorted(MENU_DETAILS["Tiramisù"][1])
    assert nord_after["category"] == "dolci"


def test_a_waiter_cannot_edit_a_price(api: ApiClient, admin_db: psycopg.Connection) -> None:
    """Given the waiter of centrale, when they try to change centrale's risotto price, then
    they are refused for the missing EDIT_PRICES flag and the price is what it was."""
    before = admin_db.execute(
        "SELECT price_cents, updated_at FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (CENTRALE, RISOTTO),
    ).fetchone()

    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )

    assert response.status == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == ["EDIT_PRICES"]
    after = admin_db.execute(
        "SELECT price_cents, updated_at FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (CENTRALE, RISOTTO),
    ).fetchone()
    assert after == before


def test_availability_is_per_venue(api: ApiClient, admin_db: psycopg.Connection) -> None:
    """Given the risotto available at both venues, when centrale's head chef turns it off
    at centrale, then centrale's menu shows it unavailable, nord's still available, and
    the change is audited with its before and after."""
    response = api.request(
        "PUT",
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}/availability",
        as_user=USER["head_chef"].id,
        json_body={"available": False},
    )

    assert response.status == 200, response.text
    assert menu_of(api, CENTRALE, USER["regional"].id)[str(RISOTTO)]["available"] is False
    assert menu_of(api, NORD, USER["regional"].id)[str(RISOTTO)]["available"] is True
    venue, actor, details, _ = latest_event(admin_db, "menu.availability_changed")
    assert (venue, actor) == (CENTRALE, USER["head_chef"].id)
    assert details["after"] == {"available": False}
    api.request(
        "PUT",
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}/availability",
        as_user=USER["head_chef"].id,
        json_body={"available": True},
    )


# --- the catalogue -------------------------------------------------------------------------


def test_only_the_groups_owners_edit_the_catalogue(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the regional manager and the head chef (both with EDIT_MENU at centrale) and a
    waiter (without it), when each tries to rename the tiramisù, then the first two are
    refused as not owners, the waiter for the flag, and the item is unchanged; when the
    group's owner renames it at centrale, then the change is made."""
    before = admin_db.execute("SELECT name FROM menu_items WHERE id = %s", (TIRAMISU,)).fetchone()
    path = f"/venues/{CENTRALE}/catalogue/items/{TIRAMISU}"

    regional = api.patch(path, as_user=USER["regional"].id, json_body={"name": "Tiramisu 2"})
    head_chef = api.patch(path, as_user=USER["head_chef"].id, json_body={"name": "Tiramisu 3"})
    waiter = api.patch(path, as_user=USER["waiter"].id, json_body={"name": "Tiramisu 4"})

    assert (regional.status, regional.json()["code"]) == (403, "owner-required")
    assert (head_chef.status, head_chef.json()["code"]) == (403, "owner-required")
    assert (waiter.status, waiter.json()["code"]) == (403, "permission-denied")
    assert (
        admin_db.execute("SELECT name FROM menu_items WHERE id = %s", (TIRAMISU,)).fetchone()
        == before
    )

    owner = api.patch(path, as_user=USER["owner"].id, json_body={"description": "Nonna's"})

    assert owner.status == 200, owner.text
    assert owner.json()["description"] == "Nonna's"
    assert admin_db.execute(
        "SELECT description FROM menu_items WHERE id = %s", (TIRAMISU,)
    ).fetchone() == ("Nonna's",)


def test_a_catalogue_change_records_that_the_allergens_changed_not_what_they_are(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the risotto's allergens, when the owner changes them and its category, then the
    audit event has the category before and after and says the allergens changed, and no
    allergen's name appears anywhere in the event."""
    response = api.patch(
        f"/venues/{NORD}/catalogue/items/{RISOTTO}",
        as_user=USER["owner"].id,
        json_body={"allergens": ["milk", "celery"], "category": "risotti"},
    )

    assert response.status == 200, response.text
    assert sorted(response.json()["allergens"]) == ["celery", "milk"]
    venue, actor, details, _ = latest_event(admin_db, "menu.catalogue_item_changed")
    assert (venue, actor) == (NORD, USER["owner"].id)
    assert details["allergens_changed"] is True
    assert details["before"] == {"category": "primi"}
    assert details["after"] == {"category": "risotti"}
    text = json.dumps(details).lower()
    assert [name for name in ALLERGENS if name in text] == []


def test_a_catalogue_change_of_one_group_is_invisible_to_another_groups_venues(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given io osteria's owner, when they add an item to the catalogue at centrale, then
    nord (same group) lists it and bar lume (another group) does not; and bar lume's owner
    cannot reach an io osteria item through their own venue (404)."""
    response = api.request(
        "POST",
        f"/venues/{CENTRALE}/catalogue/items",
        as_user=USER["owner"].id,
        json_body={
            "name": "Panna cotta",
            "category": "dolci",
            "allergens": ["milk"],
            "description": "Vanilla, berries",
        },
    )

    assert response.status == 201, response.text
    item = response.json()["id"]
    assert menu_of(api, NORD, USER["owner"].id)[item]["price_cents"] is None
    assert item not in menu_of(api, LUME, USER["owner_lume"].id)
    assert admin_db.execute(
        "SELECT group_id FROM menu_items WHERE id = %s", (item,)
    ).fetchone() == (GROUP_IO,)

    foreign = api.patch(
        f"/venues/{LUME}/catalogue/items/{item}",
        as_user=USER["owner_lume"].id,
        json_body={"name": "Mine now"},
    )

    assert (foreign.status, foreign.json()["code"]) == (404, "not-found")
    lume_negroni = api.patch(
        f"/venues/{CENTRALE}/catalogue/items/{NEGRONI}",
        as_user=USER["owner"].id,
        json_body={"name": "Negroni sbagliato"},
    )
    assert lume_negroni.status == 404
    assert admin_db.execute("SELECT name FROM menu_items WHERE id = %s", (NEGRONI,)).fetchone() == (
        "Negroni",
    )


def test_an_unknown_allergen_is_refused_without_naming_any(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the group's owner, when they give the tiramisù an allergen outside the EU list,
    then the answer is 422 naming the field, and its body names no allergen at all."""
    response = api.patch(
        f"/venues/{CENTRALE}/catalogue/items/{TIRAMISU}",
        as_user=USER["owner"].id,
        json_body={"allergens": ["milk", "kryptonite"]},
    )

    assert (response.status, response.json()["code"]) == (422, "invalid-body")
    assert response.json()["errors"][0]["field"] == "allergens.1"
    assert [name for name in (*ALLERGENS, "kryptonite") if name in response.text] == []


# --- shifts --------------------------------------------------------------------------------


def closed_shift(admin_db: psycopg.Connection, venue: uuid.UUID) -> uuid.UUID:
    """A shift of yesterday at ``venue``, closed."""
    shift_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO shifts (id, venue_id, opened_at, opened_by, closed_at, closed_by)"
        " VALUES (%s, %s, now() - interval '1 day', %s, now() - interval '12 hours', %s)",
        (shift_id, venue, USER["regional"].id, USER["regional"].id),
    )
    return shift_id


def test_a_head_chef_cannot_reopen_a_shift(api: ApiClient, admin_db: psycopg.Connection) -> None:
    """Given a closed shift at centrale, when centrale's head chef tries to reopen it, then
    they are refused for the missing REOPEN_SHIFT flag and the shift stays closed."""
    shift = closed_shift(admin_db, CENTRALE)

    response = api.request(
        "POST", f"/venues/{CENTRALE}/shifts/{shift}/reopen", as_user=USER["head_chef"].id
    )

    assert response.status == 403, response.text
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == ["REOPEN_SHIFT"]
    assert admin_db.execute(
        "SELECT closed_at IS NOT NULL, reopen_count FROM shifts WHERE id = %s", (shift,)
    ).fetchone() == (True, 0)


def test_a_manager_closes_and_reopens_a_shift_one_open_at_a_time(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given nord's open shift, when nord's manager opens another, then it is refused (one
    open shift per venue); when they close the open one and reopen it, then it is open again,
    reopened by them, and the reopening is audited with its before and after."""
    listed = api.get(f"/venues/{NORD}/shifts", as_user=USER["manager"].id)
    assert listed.status == 200, listed.text
    open_now = [s for s in listed.json()["shifts"] if s["status"] == "open"]
    if not open_now:
        opened = api.request("POST", f"/venues/{NORD}/shifts", as_user=USER["manager"].id)
        assert opened.status == 201, opened.text
        open_now = [opened.json()]
    shift = open_now[0]["id"]

    second = api.request("POST", f"/venues/{NORD}/shifts", as_user=USER["manager"].id)
    closed = api.request("POST", f"/venues/{NORD}/shifts/{shift}/close", as_user=USER["manager"].id)
    reopened = api.request(
        "POST", f"/venues/{NORD}/shifts/{shift}/reopen", as_user=USER["manager"].id
    )

    assert (second.status, second.json()["code"]) == (409, "shift-already-open")
    assert closed.status == 200, closed.text
    assert closed.json()["status"] == "closed"
    assert reopened.status == 200, reopened.text
    assert reopened.json()["status"] == "open"
    assert reopened.json()["reopened_by"] == str(USER["manager"].id)
    venue, actor, details, _ = latest_event(admin_db, "shift.reopened")
    assert (venue, actor) == (NORD, USER["manager"].id)
    assert details["after"]["closed_at"] is None
    assert details["before"]["closed_by"] == str(USER["manager"].id)


def test_a_shift_is_not_reopened_while_another_is_open(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given centrale's open shift and a closed one of yesterday, when the regional manager
    reopens yesterday's, then it is refused: one open shift per venue."""
    admin_db.execute(
        "INSERT INTO shifts (venue_id, opened_by) SELECT %s, %s WHERE NOT EXISTS"
        " (SELECT 1 FROM shifts WHERE venue_id = %s AND closed_at IS NULL)",
        (CENTRALE, USER["regional"].id, CENTRALE),
    )
    shift = closed_shift(admin_db, CENTRALE)

    response = api.request(
        "POST", f"/venues/{CENTRALE}/shifts/{shift}/reopen", as_user=USER["regional"].id
    )

    assert (response.status, response.json()["code"]) == (409, "shift-already-open")


def test_an_order_cannot_point_at_another_venues_shift(admin_db: psycopg.Connection) -> None:
    """Given an order of centrale, when it is attached to a shift of nord, then the composite
    key refuses it, whatever the application does."""
    nord_shift = closed_shift(admin_db, NORD)
    order = admin_db.execute(
        "SELECT id FROM orders WHERE venue_id = %s LIMIT 1", (CENTRALE,)
    ).fetchone()
    assert order is not None

    try:
        admin_db.execute("UPDATE orders SET shift_id = %s WHERE id = %s", (nord_shift, order[0]))
    except psycopg.errors.ForeignKeyViolation:
        refused = True
    else:
        refused = False

    assert refused


# --- stock counts --------------------------------------------------------------------------


def test_stock_is_counted_corrected_and_listed_by_day_at_one_venue(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the head chef of centrale, when they count the tiramisù today
    and then correct the count, then the day's list at centrale has the corrected count,
    nord's list does not have it, and the correction is audited."""
    path = f"/venues/{CENTRALE}/stock-counts/{TIRAMISU}"

    first = api.request("PUT", path, as_user=USER["head_chef"].id, json_body={"quantity": 9})
    corrected = api.request("PUT", path, as_user=USER["head_chef"].id, json_body={"quantity": 8})
    future = api.request(
        "PUT",
        path,
        as_user=USER["head_chef"].id,
        json_body={"quantity": 1, "day": (dt.date.today() + dt.timedelta(days=3)).isoformat()},
    )

    assert first.status == 200, first.text
    assert corrected.status == 200, corrected.text
    assert (future.status, future.json()["code"]) == (422, "count-day-out-of-range")
    day = corrected.json()["day"]
    listed = api.get(
        f"/venues/{CENTRALE}/stock-counts", as_user=USER["head_chef"].id, query={"day": day}
    )
    assert listed.status == 200, listed.text
    counts = {c["item_id"]: c["quantity"] for c in listed.json()["counts"]}
    assert counts[str(TIRAMISU)] == 8
    at_nord = api.get(f"/venues/{NORD}/stock-counts", as_user=USER["manager"].id)
    assert str(TIRAMISU) not in {c["item_id"] for c in at_nord.json()["counts"]}
    venue, _, details, _ = latest_event(admin_db, "stock.count_corrected")
    assert venue == CENTRALE
    assert details["before"] == {"quantity": 9}
    assert details["after"] == {"quantity": 8}


# --- settings ------------------------------------------------------------------------------


def test_settings_are_validated_changed_and_audited(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a venue and its manager, when they change its service charge
    and turn on require_mfa_for_admins, then the settings read back changed and the change
    is a critical audit event with before and after; a service charge over 50 % and a
    removed setting are refused and change nothing."""
    venue = new_venue(admin_db)
    manager = manager_of(admin_db, venue)
    path = f"/venues/{venue}/settings"

    too_high = api.patch(path, as_user=manager, json_body={"service_charge_bps": 9000})
    removed = api.patch(path, as_user=manager, json_body={"tip_policy": None})
    changed = api.patch(
        path,
        as_user=manager,
        json_body={"service_charge_bps": 1250, "require_mfa_for_admins": True},
    )

    assert (too_high.status, too_high.json()["code"]) == (422, "invalid-body")
    assert (removed.status, removed.json()["code"]) == (422, "invalid-body")
    assert changed.status == 200, changed.text
    assert changed.json()["service_charge_bps"] == 1250
    assert changed.json()["timezone"] == "Europe/Rome"
    _, actor, details, critical = latest_event(admin_db, "settings.changed")
    assert actor == manager
    assert critical is True
    assert details == {
        "before": {"require_mfa_for_admins": False, "service_charge_bps": 0},
        "after": {"require_mfa_for_admins": True, "service_charge_bps": 1250},
    }
    # The manager now needs a second factor here: their sign-in has none.
    again = api.get(path, as_user=manager)
    assert (again.status, again.json()["code"]) == (403, "mfa-required")


def test_a_change_of_settings_that_is_not_privileged_is_not_critical(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a venue's settings, when the tip policy changes, then the event is not
    critical; GET answers what was written."""
    venue = new_venue(admin_db)
    manager = manager_of(admin_db, venue)

    response = api.patch(
        f"/venues/{venue}/settings", as_user=manager, json_body={"tip_policy": "pooled"}
    )

    assert response.status == 200, response.text
    _, _, details, critical = latest_event(admin_db, "settings.changed")
    assert critical is False
    assert details == {"before": {"tip_policy": "none"}, "after": {"tip_policy": "pooled"}}
    read = api.get(f"/venues/{venue}/settings", as_user=manager)
    assert read.json()["tip_policy"] == "pooled"


# --- sales ---------------------------------------------------------------------------------


def test_sales_are_added_up_by_day_item_and_staff_in_the_venues_time_zone(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a venue in New York with three orders (one at 02:00 UTC, still the day before
    there, and one cancelled), when its manager asks for two days of sales, then the totals
    fall on New York's days, by item and by staff member, without the cancelled order."""
    venue = new_venue(admin_db)
    admin_db.execute("UPDATE venues SET timezone = 'America/New_York' WHERE id = %s", (venue,))
    manager = manager_of(admin_db, venue)
    group = admin_db.execute("SELECT group_id FROM venues WHERE id = %s", (venue,)).fetchone()
    assert group is not None
    item = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO menu_items (id, group_id, name) VALUES (%s, %s, 'Burger')", (item, group[0])
    )
    staff = admin_db.execute(
        "INSERT INTO staff_members (venue_id, display_name, role) VALUES (%s, 'Jo', 'waiter')"
        " RETURNING id",
        (venue,),
    ).fetchone()
    assert staff is not None
    for number, at, status, quantity in (
        (1, "2026-11-20 02:00+00", "paid", 1),  # 19 Nov, 21:00 in New York
        (2, "2026-11-20 18:00+00", "paid", 2),
        (3, "2026-11-20 19:00+00", "cancelled", 5),
    ):
        order = admin_db.execute(
            "INSERT INTO orders (venue_id, number, status, staff_member_id, total_cents,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s) RETURNING id",
            (venue, number, status, staff[0], 1000 * quantity, at),
        ).fetchone()
        assert order is not None
        admin_db.execute(
            "INSERT INTO order_items (order_id, venue_id, item_id, name, quantity,"
            " unit_price_cents) VALUES (%s, %s, %s, 'Burger', %s, 1000)",
            (order[0], venue, item, quantity),
        )

    response = api.get(
        f"/venues/{venue}/sales",
        as_user=manager,
        query={"from": "2026-11-19", "to": "2026-11-20"},
    )

    assert response.status == 200, response.text
    summary = response.json()
    assert summary["timezone"] == "America/New_York"
    assert summary["total"] == {"orders": 2, "total_cents": 3000}
    assert summary["by_day"] == [
        {"day": "2026-11-19", "orders": 1, "total_cents": 1000},
        {"day": "2026-11-20", "orders": 1, "total_cents": 2000},
    ]
    assert summary["by_item"] == [
        {"item_id": str(item), "name": "Burger", "quantity": 3, "total_cents": 3000}
    ]
    assert summary["by_staff"] == [
        {"staff_member_id": str(staff[0]), "display_name": "Jo", "orders": 2, "total_cents": 3000}
    ]


def test_a_sales_range_backwards_or_too_long_is_a_bad_query(api: ApiClient) -> None:
    """Given nord's manager, when they ask for sales from a later day to an earlier one, or
    over more than a year, then the query is refused (400 invalid-query)."""
    backwards = api.get(
        f"/venues/{NORD}/sales",
        as_user=USER["manager"].id,
        query={"from": "2026-11-20", "to": "2026-11-19"},
    )
    too_long = api.get(
        f"/venues/{NORD}/sales",
        as_user=USER["manager"].id,
        query={"from": "2024-01-01", "to": "2026-11-19"},
    )

    assert (backwards.status, backwards.json()["code"]) == (400, "invalid-query")
    assert (too_long.status, too_long.json()["code"]) == (400, "invalid-query")


def test_a_waiter_cannot_see_sales(api: ApiClient) -> None:
    """Given the waiter of centrale, when they ask for centrale's sales, then they are
    refused for the missing VIEW_SALES flag."""
    response = api.get(f"/venues/{CENTRALE}/sales", as_user=USER["waiter"].id)

    assert response.status == 403
    assert response.json()["missing_permissions"] == ["VIEW_SALES"]
