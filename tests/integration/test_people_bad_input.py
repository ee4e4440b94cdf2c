"""Bad input on the people routes, from a caller who may use them: well-formed JSON that
breaks the route's own model (an unknown role or flag, a bad email, a null where a value
is needed, another venue slipped in) is a clear 4xx problem, and nothing is written.
(tests/security/test_bad_input_every_route.py covers malformed bodies on every route.)"""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import GROUP_IO, NORD, USER
from tenancy.permissions import Permission
from tests.support.demo_users import new_user
from tests.support.people import PeopleVenue, people_at, people_venue

ADMIN = USER["platform_admin"].id
EVERY_FLAG = [flag.name for flag in Permission if flag.name]
NEW_VENUE = {
    "group_id": str(GROUP_IO),
    "name": "Sud",
    "slug": "sud-x",
    "owner_email": "a@b.example",
}

CASES: list[tuple[str, str, Any]] = [
    ("POST", "attachments", {"email": "not-an-email", "role": "waiter"}),
    ("POST", "attachments", {"email": 5, "role": "waiter"}),
    ("POST", "attachments", {"email": "a@b.example", "role": "boss"}),
    ("POST", "attachments", {"email": "a@b.example", "role": "waiter", "permissions": ["FLY"]}),
    ("POST", "attachments", {"email": "a@b.example", "role": "waiter", "permissions": "REFUND"}),
    (
        "POST",
        "attachments",
        {"email": "a@b.example", "role": "waiter", "permissions": [*EVERY_FLAG, "REFUND"]},
    ),
    ("POST", "attachments", {"email": "a@b.example", "role": "waiter", "venue_id": str(NORD)}),
    ("PATCH", "attachment", {}),
    ("PATCH", "attachment", {"role": None, "permissions": None}),
    ("PATCH", "attachment", {"role": "owner", "user_id": str(uuid.uuid4())}),
    ("POST", "staff", {"display_name": "", "role": "waiter"}),
    ("POST", "staff", {"display_name": "x" * 201, "role": "waiter"}),
    ("POST", "staff", {"display_name": "x", "role": "waiter", "user_id": "not-a-uuid"}),
    ("POST", "staff", {"display_name": "x", "role": "waiter", "active": False}),
    ("PATCH", "member", {"active": "no"}),
    ("PUT", "current", {"venue_id": "nowhere"}),
    ("PUT", "current", {"venue_id": 1}),
    ("PUT", "current", {}),
    ("POST", "groups", {"name": ""}),
    ("POST", "groups", {"name": ["io"]}),
    ("POST", "venues", {**NEW_VENUE, "slug": "Not A Slug"}),
    ("POST", "venues", {**NEW_VENUE, "currency": "eur"}),
    ("POST", "venues", {**NEW_VENUE, "owner_email": "nobody"}),
    ("POST", "venues", {k: v for k, v in NEW_VENUE.items() if k != "owner_email"}),
    ("PATCH", "account", {"disabled": "yes"}),
    ("PATCH", "account", {"disabled": 1}),
    ("PATCH", "account", {}),
]


def everything(admin_db: psycopg.Connection, venue: PeopleVenue) -> list[Any]:
    tables = ("venue_groups", "venues", "user_current_venues", "audit_outbox")
    return [
        people_at(admin_db, venue.venue_id),
        admin_db.execute("SELECT id, disabled_at FROM users ORDER BY id").fetchall(),
        *(admin_db.execute(f"SELECT count(*) FROM {table}").fetchone() for table in tables),
    ]


@pytest.mark.parametrize(("method", "where", "body"), CASES)
def test_a_body_that_breaks_the_model_is_a_clear_refusal_and_writes_nothing(
    api: ApiClient, admin_db: psycopg.Connection, method: str, where: str, body: Any
) -> None:
    venue = people_venue(admin_db)
    member = api.request(
        "POST",
        f"/venues/{venue.venue_id}/staff",
        as_user=venue.manager,
        json_body={"display_name": "M", "role": "waiter"},
    ).json()["id"]
    someone = new_user(admin_db, "Someone")
    path, caller = {
        "attachments": (f"/venues/{venue.venue_id}/attachments", venue.manager),
        "attachment": (f"/venues/{venue.venue_id}/attachments/{someone}", venue.manager),
        "staff": (f"/venues/{venue.venue_id}/staff", venue.manager),
        "member": (f"/venues/{venue.venue_id}/staff/{member}", venue.manager),
        "current": ("/me/current-venue", venue.manager),
        "groups": ("/platform/venue-groups", ADMIN),
        "venues": ("/platform/venues", ADMIN),
        "account": (f"/platform/users/{someone}", ADMIN),
    }[where]
    before = everything(admin_db, venue)

    response = api.request(method, path, as_user=caller, json_body=body)

    assert response.status in (400, 422), response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] in ("invalid-body", "malformed-json")
    assert everything(admin_db, venue) == before
