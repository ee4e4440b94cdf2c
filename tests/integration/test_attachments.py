"""Attachments through the real gate: who may attach whom, with which role and flags, and
what happens to the people who lose them."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import USER
from tenancy.permissions import ROLE_DEFAULTS, Permission, Role
from tests.support.demo_users import attach, new_user
from tests.support.people import PeopleVenue, audit_events, email_of, people_at, people_venue

ADMIN = USER["platform_admin"].id


@pytest.fixture
def venue(admin_db: psycopg.Connection) -> PeopleVenue:
    return people_venue(admin_db)


def attachments(venue: PeopleVenue) -> str:
    return f"/venues/{venue.venue_id}/attachments"


def attachment(venue: PeopleVenue, user_id: uuid.UUID) -> str:
    return f"/venues/{venue.venue_id}/attachments/{user_id}"


def test_a_manager_attaches_an_account_by_email_with_the_roles_default_flags(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given an account with no venue, when the venue's manager attaches it by email as a
    waiter, then it is attached with the waiter's default flags, the answer says so, and
    the change is audited with its before and after."""
    newcomer = new_user(admin_db, "Newcomer")

    response = api.request(
        "POST",
        attachments(venue),
        as_user=venue.manager,
        json_body={"email": email_of(admin_db, newcomer).upper(), "role": "waiter"},
    )

    assert response.status == 201, response.text
    body = response.json()
    assert (body["user_id"], body["role"]) == (str(newcomer), "waiter")
    assert body["permissions"] == ROLE_DEFAULTS[Role.WAITER].names()
    stored = admin_db.execute(
        "SELECT role, permissions FROM venue_attachments WHERE venue_id = %s AND user_id = %s",
        (venue.venue_id, newcomer),
    ).fetchone()
    assert stored == ("waiter", int(ROLE_DEFAULTS[Role.WAITER]))
    (event,) = audit_events(admin_db, action="staff.attached", target_id=str(newcomer))
    assert (event["venue_id"], event["actor_user_id"]) == (venue.venue_id, venue.manager)
    assert event["details"] == {
        "before": None,
        "after": {"role": "waiter", "permissions": ROLE_DEFAULTS[Role.WAITER].names()},
    }


def test_flags_given_with_the_role_replace_its_defaults(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager, when they attach a waiter who may also edit prices, then the
    attachment holds exactly the flags named."""
    newcomer = new_user(admin_db, "Newcomer")

    response = api.request(
        "POST",
        attachments(venue),
        as_user=venue.manager,
        json_body={
            "email": email_of(admin_db, newcomer),
            "role": "waiter",
            "permissions": ["VIEW_ORDERS", "TAKE_ORDERS", "EDIT_PRICES"],
        },
    )

    assert response.status == 201, response.text
    assert response.json()["permissions"] == ["VIEW_ORDERS", "TAKE_ORDERS", "EDIT_PRICES"]


def test_the_list_shows_every_attached_account_with_its_role_and_flags(
    api: ApiClient, venue: PeopleVenue
) -> None:
    response = api.get(attachments(venue), as_user=venue.manager)

    assert response.status == 200, response.text
    listed = {
        (a["user_id"], a["role"], tuple(a["permissions"])) for a in response.json()["attachments"]
    }
    assert listed == {
        (str(venue.owner), "owner", tuple(Permission.all().names())),
        (str(venue.manager), "manager", tuple(ROLE_DEFAULTS[Role.MANAGER].names())),
    }


def test_attaching_an_account_twice_is_a_conflict(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    response = api.request(
        "POST",
        attachments(venue),
        as_user=venue.owner,
        json_body={"email": email_of(admin_db, venue.manager), "role": "waiter"},
    )

    assert response.status == 409
    assert response.json()["code"] == "already-attached"


def test_a_role_change_takes_the_new_roles_flags_and_is_audited(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    waiter = new_user(admin_db, "Waiter")
    attach(admin_db, waiter, venue.venue_id, Role.WAITER)

    response = api.patch(
        attachment(venue, waiter), as_user=venue.manager, json_body={"role": "chef"}
    )

    assert response.status == 200, response.text
    assert (response.json()["role"], response.json()["permissions"]) == (
        "chef",
        ROLE_DEFAULTS[Role.CHEF].names(),
    )
    (event,) = audit_events(admin_db, action="staff.attachment_changed", target_id=str(waiter))
    assert event["details"] == {
        "before": {"role": "waiter", "permissions": ROLE_DEFAULTS[Role.WAITER].names()},
        "after": {"role": "chef", "permissions": ROLE_DEFAULTS[Role.CHEF].names()},
    }


# --- escalation attempts: refused, nothing written, the attempt audited ------------------


def attempt(
    api: ApiClient,
    admin_db: psycopg.Connection,
    venue: PeopleVenue,
    method: str,
    path: str,
    *,
    as_user: uuid.UUID,
    json_body: Any = None,
) -> tuple[Response, dict[str, Any]]:
    """The request, checked to have written nothing at the venue but its refusal's critical
    audit event (and, for a platform admin, the gate's own record of the visit)."""
    before_people = people_at(admin_db, venue.venue_id)
    before_events = {e["id"] for e in audit_events(admin_db)}

    response = api.request(method, path, as_user=as_user, json_body=json_body)

    assert people_at(admin_db, venue.venue_id) == before_people
    new = audit_events(admin_db, after=before_events)
    refusals = [e for e in new if e["action"] == "staff.change_refused"]
    assert len(refusals) == 1, new
    assert {e["action"] for e in new} <= {"staff.change_refused", "platform_admin.venue_access"}
    assert refusals[0]["critical"] is True
    assert refusals[0]["actor_user_id"] == as_user
    assert refusals[0]["details"]["refusal"] == response.json()["code"]
    assert response.headers["content-type"] == "application/problem+json"
    return response, refusals[0]


def test_a_manager_cannot_grant_a_flag_they_do_not_hold(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager (no MANAGE_PAYMENTS), when they attach a waiter who may manage
    payments, then they are refused naming the flag, nothing is attached, the attempt is
    audited."""
    newcomer = new_user(admin_db, "Newcomer")

    response, event = attempt(
        api,
        admin_db,
        venue,
        "POST",
        attachments(venue),
        as_user=venue.manager,
        json_body={
            "email": email_of(admin_db, newcomer),
            "role": "waiter",
            "permissions": ["VIEW_ORDERS", "MANAGE_PAYMENTS"],
        },
    )

    assert response.status == 403
    assert response.json()["code"] == "permission-not-grantable"
    assert response.json()["ungrantable_permissions"] == ["MANAGE_PAYMENTS"]
    assert event["details"]["attempt"] == "attach"


def test_a_manager_cannot_attach_someone_as_owner(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager, when they attach an account as owner (even with few flags), then the
    role is refused: an owner holds MANAGE_PAYMENTS (and MANAGE_GROUP), which they do not."""
    newcomer = new_user(admin_db, "Newcomer")

    for permissions in (None, ["VIEW_ORDERS"]):
        body: dict[str, Any] = {"email": email_of(admin_db, newcomer), "role": "owner"}
        if permissions is not None:
            body["permissions"] = permissions
        response, _ = attempt(
            api, admin_db, venue, "POST", attachments(venue), as_user=venue.manager, json_body=body
        )

        assert response.status == 403
        assert response.json()["code"] == "role-not-grantable"
        assert (
            response.json()["ungrantable_permissions"]
            == (ROLE_DEFAULTS[Role.OWNER] & ~ROLE_DEFAULTS[Role.MANAGER]).names()
        )
        assert "MANAGE_PAYMENTS" in response.json()["ungrantable_permissions"]


def test_nobody_changes_their_own_flags(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given the venue's manager and its owner, when either changes their own attachment
    (even to fewer flags) or removes it, then they are refused and it stays as it was."""
    for who in (venue.manager, venue.owner):
        for method, body in (("PATCH", {"permissions": ["VIEW_ORDERS"]}), ("DELETE", None)):
            response, event = attempt(
                api, admin_db, venue, method, attachment(venue, who), as_user=who, json_body=body
            )

            assert response.status == 403
            assert response.json()["code"] == "own-attachment"
            assert event["target_id"] == str(who)


def test_a_manager_cannot_change_or_remove_an_owner(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager and the venue's owner (who holds MANAGE_PAYMENTS), when the manager
    demotes or detaches the owner, then they are refused: the owner outranks them."""
    for method, body in (("PATCH", {"role": "waiter"}), ("DELETE", None)):
        response, _ = attempt(
            api,
            admin_db,
            venue,
            method,
            attachment(venue, venue.owner),
            as_user=venue.manager,
            json_body=body,
        )

        assert response.status == 403
        assert response.json()["code"] == "outranks-you"


@pytest.mark.parametrize(
    ("method", "body"),
    [
        ("DELETE", None),
        ("PATCH", {"role": "manager"}),
        ("PATCH", {"permissions": ["VIEW_ORDERS"]}),
    ],
    ids=["detach", "demote to manager", "take flags away"],
)
def test_the_last_owner_can_be_neither_detached_nor_demoted(
    api: ApiClient,
    admin_db: psycopg.Connection,
    venue: PeopleVenue,
    method: str,
    body: dict[str, Any] | None,
) -> None:
    """Given a venue with one owner, when a platform admin (who holds every flag there)
    detaches or demotes that owner, then they are refused with last-owner and the owner
    keeps the venue."""
    response, event = attempt(
        api,
        admin_db,
        venue,
        method,
        attachment(venue, venue.owner),
        as_user=ADMIN,
        json_body=body,
    )

    assert response.status == 409
    assert response.json()["code"] == "last-owner"
    assert event["details"]["before"]["role"] == "owner"


def test_an_owner_stripped_of_flags_does_not_count_as_another_owner(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a venue whose one full owner has a second "owner" holding only VIEW_ORDERS,
    when a platform admin detaches the full owner, then it is refused: the venue would be
    left without anyone holding an owner's flags."""
    hollow = new_user(admin_db, "Hollow owner")
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'owner', %s)",
        (venue.venue_id, hollow, int(Permission.VIEW_ORDERS)),
    )

    response, _ = attempt(
        api, admin_db, venue, "DELETE", attachment(venue, venue.owner), as_user=ADMIN
    )

    assert (response.status, response.json()["code"]) == (409, "last-owner")


def test_with_a_second_owner_the_first_may_be_demoted(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a venue with two owners, when one demotes the other, then it is done."""
    second = new_user(admin_db, "Second owner")
    attach(admin_db, second, venue.venue_id, Role.OWNER)

    response = api.patch(
        attachment(venue, venue.owner), as_user=second, json_body={"role": "manager"}
    )

    assert response.status == 200, response.text
    assert response.json()["role"] == "manager"


# --- offboarding: the very next request --------------------------------------------------


def test_a_detached_account_is_refused_on_its_very_next_request(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a waiter whose token still has minutes to live, when the manager detaches them
    through the route, then the same token's next request at the venue is refused, and the
    detachment is audited."""
    waiter = new_user(admin_db, "Waiter")
    attach(admin_db, waiter, venue.venue_id, Role.WAITER)
    token = api.fresh_token(waiter)
    orders = f"/venues/{venue.venue_id}/orders"
    assert api.get(orders, token=token).status == 200

    detached = api.request("DELETE", attachment(venue, waiter), as_user=venue.manager)
    response = api.get(orders, token=token)

    assert detached.status == 204, detached.text
    assert response.status == 403
    assert response.json()["code"] == "venue-access-denied"
    (event,) = audit_events(admin_db, action="staff.detached", target_id=str(waiter))
    assert event["details"]["after"] is None


def test_a_demoted_account_loses_the_flag_on_its_very_next_request(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a second manager who lists the venue's attachments, when the owner demotes them
    to waiter, then the same token is refused the list on its next request, naming the
    flag."""
    second = new_user(admin_db, "Second manager")
    attach(admin_db, second, venue.venue_id, Role.MANAGER)
    token = api.fresh_token(second)
    assert api.get(attachments(venue), token=token).status == 200

    demoted = api.patch(
        attachment(venue, second), as_user=venue.owner, json_body={"role": "waiter"}
    )
    response = api.get(attachments(venue), token=token)

    assert demoted.status == 200, demoted.text
    assert response.status == 403
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == ["MANAGE_STAFF"]


def test_the_demo_seed_attached_its_people_through_the_same_rules(
    admin_db: psycopg.Connection,
) -> None:
    """Given the demo data, every seeded attachment has the attach event the route writes,
    made by the platform (no actor): the seed goes through staff.logic, not around it."""
    seeded = admin_db.execute(
        "SELECT venue_id, user_id, role FROM venue_attachments WHERE user_id = ANY(%s)",
        ([user.id for user in USER.values()],),
    ).fetchall()

    assert seeded
    for venue_id, user_id, role in seeded:
        events = audit_events(
            admin_db, action="staff.attached", venue_id=venue_id, target_id=str(user_id)
        )
        assert [(e["actor_user_id"], e["details"]["after"]["role"]) for e in events] == [
            (None, role)
        ]


def test_the_same_account_attached_twice_at_once_is_one_attachment_and_one_conflict(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given a manager who sends the same attachment four times at once (a double click),
    then one is attached and the others are told it already is: never a 500, and one
    attach event."""
    newcomer = new_user(admin_db, "Newcomer")
    body = {"email": email_of(admin_db, newcomer), "role": "waiter"}
    token = api.token_for(venue.manager)

    with ThreadPoolExecutor(max_workers=4) as pool:
        responses = list(
            pool.map(
                lambda _: api.request("POST", attachments(venue), token=token, json_body=body),
                range(4),
            )
        )

    assert sorted(r.status for r in responses) == [201, 409, 409, 409], [r.text for r in responses]
    assert len(audit_events(admin_db, action="staff.attached", target_id=str(newcomer))) == 1
