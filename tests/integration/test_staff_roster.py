"""The staff roster through the real gate: add, change, link, deactivate; the same rules on
roles as attachments."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import NORD, USER
from tenancy.permissions import Role
from tests.support.demo_users import attach, new_user
from tests.support.people import PeopleVenue, audit_events, people_at, people_venue
from tests.support.tills import device_token, enter_pin, register_till


@pytest.fixture
def venue(admin_db: psycopg.Connection) -> PeopleVenue:
    return people_venue(admin_db)


def staff(venue: PeopleVenue, staff_id: uuid.UUID | str | None = None) -> str:
    path = f"/venues/{venue.venue_id}/staff"
    return path if staff_id is None else f"{path}/{staff_id}"


def add(api: ApiClient, venue: PeopleVenue, **body: Any) -> dict[str, Any]:
    response = api.request("POST", staff(venue), as_user=venue.manager, json_body=body)
    assert response.status == 201, response.text
    member: dict[str, Any] = response.json()
    return member


def test_a_manager_adds_a_member_of_staff_who_is_then_on_the_roster(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager, when they add a waiter without an account, then the roster lists
    them as active and the addition is audited."""
    member = add(api, venue, display_name="  Paola  ", role="waiter")

    roster = api.get(staff(venue), as_user=venue.manager)

    assert (member["display_name"], member["role"], member["user_id"], member["active"]) == (
        "Paola",
        "waiter",
        None,
        True,
    )
    assert roster.status == 200, roster.text
    assert [m["id"] for m in roster.json()["staff"]] == [member["id"]]
    (event,) = audit_events(admin_db, action="staff.member_added", target_id=member["id"])
    assert event["details"]["after"]["display_name"] == "Paola"


def test_deactivating_keeps_the_member_out_of_the_roster_but_on_record(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a member of staff, when the manager sets active to false, then the default
    roster leaves them out, the whole roster still shows them inactive, and reactivating
    brings them back; each change is audited with before and after."""
    member = add(api, venue, display_name="Carla", role="chef")

    off = api.patch(staff(venue, member["id"]), as_user=venue.manager, json_body={"active": False})
    active = api.get(staff(venue), as_user=venue.manager).json()["staff"]
    everyone = api.get(
        staff(venue), as_user=venue.manager, query={"include_inactive": "true"}
    ).json()["staff"]
    on = api.patch(staff(venue, member["id"]), as_user=venue.manager, json_body={"active": True})

    assert off.status == 200, off.text
    assert off.json()["active"] is False
    assert active == []
    assert [(m["id"], m["active"]) for m in everyone] == [(member["id"], False)]
    assert on.json()["active"] is True
    events = audit_events(admin_db, action="staff.member_changed", target_id=member["id"])
    assert [
        (e["details"]["before"]["active"], e["details"]["after"]["active"]) for e in events
    ] in (
        [(True, False), (False, True)],
        [(False, True), (True, False)],
    )


def test_a_member_is_linked_only_to_an_account_attached_here(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given an account attached to the venue and one that is not, when the manager links
    a member of staff to each, then the first is linked, the second refused (422), and
    ``user_id: null`` unlinks."""
    attached = new_user(admin_db, "Attached")
    attach(admin_db, attached, venue.venue_id, Role.WAITER)
    stranger = new_user(admin_db, "Stranger")
    member = add(api, venue, display_name="Dario", role="waiter")
    path = staff(venue, member["id"])

    linked = api.patch(path, as_user=venue.manager, json_body={"user_id": str(attached)})
    refused = api.patch(path, as_user=venue.manager, json_body={"user_id": str(stranger)})
    new_refused = api.request(
        "POST",
        staff(venue),
        as_user=venue.manager,
        json_body={"display_name": "X", "role": "waiter", "user_id": str(stranger)},
    )
    unlinked = api.patch(path, as_user=venue.manager, json_body={"user_id": None})

    assert linked.json()["user_id"] == str(attached)
    assert (refused.status, refused.json()["code"]) == (422, "user-not-attached")
    assert (new_refused.status, new_refused.json()["code"]) == (422, "user-not-attached")
    assert unlinked.json()["user_id"] is None


def test_a_manager_cannot_add_or_make_a_member_of_staff_an_owner(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager, when they add a member of staff as owner, or promote one to owner,
    then both are refused (an owner's flags are not theirs to give), nothing is written
    but the attempts' critical audit events."""
    member = add(api, venue, display_name="Elia", role="waiter")
    before = people_at(admin_db, venue.venue_id)

    added = api.request(
        "POST",
        staff(venue),
        as_user=venue.manager,
        json_body={"display_name": "Boss", "role": "owner"},
    )
    promoted = api.patch(
        staff(venue, member["id"]), as_user=venue.manager, json_body={"role": "owner"}
    )

    assert (added.status, added.json()["code"]) == (403, "role-not-grantable")
    assert (promoted.status, promoted.json()["code"]) == (403, "role-not-grantable")
    assert people_at(admin_db, venue.venue_id) == before
    refusals = audit_events(admin_db, action="staff.change_refused", venue_id=venue.venue_id)
    assert sorted(e["details"]["attempt"] for e in refusals) == [
        "add_staff_member",
        "change_staff_member",
    ]
    assert all(e["critical"] for e in refusals)


def test_a_manager_cannot_change_a_member_of_staff_who_outranks_them(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given an owner on the roster (added by the venue's owner), when the manager renames
    them, then they are refused: outranks-you."""
    response = api.request(
        "POST",
        staff(venue),
        as_user=venue.owner,
        json_body={"display_name": "Owner", "role": "owner"},
    )
    assert response.status == 201, response.text

    renamed = api.patch(
        staff(venue, response.json()["id"]), as_user=venue.manager, json_body={"display_name": "Y"}
    )

    assert (renamed.status, renamed.json()["code"]) == (403, "outranks-you")


def test_a_member_of_another_venue_is_not_found(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a member of staff of another venue, when this venue's manager changes them by
    id, then row-level security hides them: 404 not-found, and they are unchanged."""
    other = people_venue(admin_db)
    response = api.request(
        "POST", staff(other), as_user=other.manager, json_body={"display_name": "Z", "role": "chef"}
    )
    before = people_at(admin_db, other.venue_id)

    changed = api.patch(
        staff(venue, response.json()["id"]), as_user=venue.manager, json_body={"active": False}
    )

    assert (changed.status, changed.json()["code"]) == (404, "not-found")
    assert people_at(admin_db, other.venue_id) == before


@pytest.mark.parametrize(
    "body",
    [{}, {"display_name": None}, {"role": None}, {"active": None}, {"display_name": "   "}],
    ids=["nothing", "null name", "null role", "null active", "blank name"],
)
def test_a_change_that_says_nothing_or_nulls_a_required_field_is_invalid(
    api: ApiClient, venue: PeopleVenue, body: dict[str, Any]
) -> None:
    member = add(api, venue, display_name="Fabio", role="waiter")

    response = api.patch(staff(venue, member["id"]), as_user=venue.manager, json_body=body)

    assert (response.status, response.json()["code"]) == (422, "invalid-body")


def test_deactivating_a_member_of_staff_ends_their_till_session_at_its_next_request(
    api: ApiClient,
) -> None:
    """Given a member of nord's staff (no account) with a PIN and a till session open on a
    till of nord, when nord's regional manager deactivates them, then the till session's
    very next request is refused (session-ended), and reactivating lets a new PIN entry in
    again."""
    regional = USER["regional"].id
    created = api.request(
        "POST",
        f"/venues/{NORD}/staff",
        as_user=regional,
        json_body={"display_name": "Giorgio", "role": "waiter"},
    )
    member = created.json()["id"]
    pin = f"{secrets.randbelow(10**8):08d}"
    assert (
        api.request(
            "PUT", f"/venues/{NORD}/staff/{member}/pin", as_user=regional, json_body={"pin": pin}
        ).status
        == 200
    )
    till = register_till(api, NORD)
    opened = enter_pin(api, device_token(api, till), NORD, pin)
    assert opened.status == 201, opened.text
    session = opened.json()["access_token"]
    assert api.get(f"/venues/{NORD}/orders", token=session).status == 200

    off = api.patch(f"/venues/{NORD}/staff/{member}", as_user=regional, json_body={"active": False})
    refused = api.get(f"/venues/{NORD}/orders", token=session)
    on = api.patch(f"/venues/{NORD}/staff/{member}", as_user=regional, json_body={"active": True})
    again = enter_pin(api, device_token(api, till), NORD, pin)

    assert off.status == 200, off.text
    assert (refused.status, refused.json()["code"]) == (401, "session-ended")
    assert on.status == 200, on.text
    assert again.status == 201, again.text
    assert api.get(f"/venues/{NORD}/orders", token=again.json()["access_token"]).status == 200
