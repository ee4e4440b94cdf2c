"""The venue switcher remembers the venue a person last picked (PUT /me/current-venue) and
marks it in GET /me/venues."""

from __future__ import annotations

import uuid

import psycopg

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER
from tests.support.demo_users import account_id, copy_of_demo_user
from tests.support.people import audit_events

PICK = "/me/current-venue"


def regional_copy(admin_db: psycopg.Connection) -> uuid.UUID:
    """A copy of the regional manager (centrale and nord), made for one test."""
    return account_id(
        admin_db, copy_of_demo_user(admin_db, USER["regional"], with_attachments=True)
    )


def current(api: ApiClient, user: uuid.UUID) -> list[str]:
    venues = api.get("/me/venues", as_user=user).json()["venues"]
    return [v["id"] for v in venues if v["current"]]


def test_the_picked_venue_is_marked_current_and_the_choice_audited(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a regional manager who has picked nothing, when they pick nord and then
    centrale, then the switcher marks the last one only, and each pick is audited with the
    venue before and after."""
    person = regional_copy(admin_db)
    assert current(api, person) == []

    first = api.request("PUT", PICK, as_user=person, json_body={"venue_id": str(NORD)})
    second = api.request("PUT", PICK, as_user=person, json_body={"venue_id": str(CENTRALE)})

    assert (first.status, first.json()) == (200, {"venue_id": str(NORD)})
    assert second.status == 200, second.text
    assert current(api, person) == [str(CENTRALE)]
    events = audit_events(admin_db, action="account.current_venue_picked", actor_user_id=person)
    assert {(e["details"]["before"], e["details"]["after"]) for e in events} == {
        (None, str(NORD)),
        (str(NORD), str(CENTRALE)),
    }
    assert {e["venue_id"] for e in events} == {None}


def test_a_venue_one_is_not_attached_to_is_refused_like_one_that_does_not_exist(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a regional manager of centrale and nord, when they pick bar lume or a venue
    that does not exist, then both answers are the same venue refusal, byte for byte, and
    nothing is stored."""
    person = regional_copy(admin_db)

    lume = api.request("PUT", PICK, as_user=person, json_body={"venue_id": str(LUME)})
    nowhere = api.request("PUT", PICK, as_user=person, json_body={"venue_id": str(uuid.uuid4())})

    assert lume.status == 403
    assert lume.json()["code"] == "venue-access-denied"
    assert lume.json()["detail"] == "you don't have access to that venue"
    assert (lume.status, lume.body) == (nowhere.status, nowhere.body)
    assert current(api, person) == []
    assert audit_events(admin_db, actor_user_id=person) == []


def test_a_platform_admin_with_a_second_factor_may_pick_any_venue(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a platform admin, when they pick bar lume from a sign-in with a second factor,
    it is remembered; from a password-only sign-in, it is refused with the venue refusal."""
    admin = account_id(
        admin_db, copy_of_demo_user(admin_db, USER["platform_admin"], with_attachments=False)
    )
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE id = %s", (admin,))
    password_only = api.fresh_token(admin, amr=["pwd"])
    with_mfa = api.fresh_token(admin, amr=["pwd", "otp"])

    refused = api.request("PUT", PICK, token=password_only, json_body={"venue_id": str(LUME)})
    picked = api.request("PUT", PICK, token=with_mfa, json_body={"venue_id": str(LUME)})
    venues = api.get("/me/venues", token=with_mfa).json()["venues"]

    assert (refused.status, refused.json()["code"]) == (403, "venue-access-denied")
    assert picked.status == 200, picked.text
    assert [(v["id"], v["via_platform_admin"]) for v in venues if v["current"]] == [
        (str(LUME), True)
    ]
