"""The request gate as a venue's people meet it."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER, menu_item_id
from tenancy.permissions import Role
from tests.support.demo_users import attach, new_user


@pytest.fixture
def new_waiter(admin_db: psycopg.Connection) -> uuid.UUID:
    """A user attached to centrale as a waiter, made for one test."""
    user_id = new_user(admin_db, "New waiter")
    attach(admin_db, user_id, CENTRALE, Role.WAITER)
    return user_id


def test_removing_an_attachment_refuses_the_very_next_request(
    api: ApiClient, admin_db: psycopg.Connection, new_waiter: uuid.UUID
) -> None:
    """Given a waiter whose token still has minutes to live, when their attachment to
    centrale is removed, then their next request for centrale is refused."""
    assert api.get(f"/venues/{CENTRALE}/orders", as_user=new_waiter).status == 200

    admin_db.execute(
        "DELETE FROM venue_attachments WHERE user_id = %s AND venue_id = %s",
        (new_waiter, CENTRALE),
    )
    response = api.get(f"/venues/{CENTRALE}/orders", as_user=new_waiter)

    assert response.status == 403
    assert response.json()["code"] == "venue-access-denied"


def test_disabling_a_user_refuses_the_very_next_request(
    api: ApiClient, admin_db: psycopg.Connection, new_waiter: uuid.UUID
) -> None:
    """Given a signed-in waiter, when operations disable the account, then the next request,
    with the same still-valid token, is refused everywhere."""
    assert api.get("/me", as_user=new_waiter).status == 200

    admin_db.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (new_waiter,))

    for path in ("/me", "/me/venues", f"/venues/{CENTRALE}", f"/venues/{CENTRALE}/orders"):
        response = api.get(path, as_user=new_waiter)
        assert response.status == 401, path
        assert response.json()["code"] == "account-disabled"


def test_a_missing_permission_is_refused_naming_it(api: ApiClient) -> None:
    """Given a waiter at centrale, when they try to change a price, then they are told which
    permission they lack."""
    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{menu_item_id('Tiramisù')}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )

    assert response.status == 403
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == ["EDIT_PRICES"]
    assert "EDIT_PRICES" in response.json()["detail"]


def test_a_casual_sees_the_orders_queue(api: ApiClient) -> None:
    """Given a casual at nord, the orders queue is theirs to see."""
    response = api.get(f"/venues/{NORD}/orders", as_user=USER["casual"].id)

    assert response.status == 200
    assert response.json()["orders"]


def test_the_venue_switcher_lists_only_attached_venues(api: ApiClient) -> None:
    """Given the head chef of centrale and the regional manager of both venues, each sees
    exactly the venues they are attached to, with their role there."""
    chef = api.get("/me/venues", as_user=USER["head_chef"].id).json()["venues"]
    regional = api.get("/me/venues", as_user=USER["regional"].id).json()["venues"]

    assert [(v["id"], v["role"]) for v in chef] == [(str(CENTRALE), "head_chef")]
    assert sorted(v["id"] for v in regional) == sorted([str(CENTRALE), str(NORD)])
    assert not any(v["via_platform_admin"] for v in chef + regional)


def test_platform_admins_see_every_venue_marked_as_such(api: ApiClient) -> None:
    venues = api.get("/me/venues", as_user=USER["platform_admin"].id).json()["venues"]

    assert {v["id"] for v in venues} >= {str(CENTRALE), str(NORD), str(LUME)}
    assert all(v["via_platform_admin"] for v in venues)


def test_a_platform_admin_reaching_venue_data_is_audited_as_critical(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a platform admin with no attachment at nord, when they read nord's orders, then
    they are served and a critical audit event records it."""
    admin = USER["platform_admin"].id
    before = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE actor_user_id = %s AND venue_id = %s"
        " AND action = 'platform_admin.venue_access' AND critical",
        (admin, NORD),
    ).fetchone()

    response = api.get(f"/venues/{NORD}/orders", as_user=admin)

    after = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE actor_user_id = %s AND venue_id = %s"
        " AND action = 'platform_admin.venue_access' AND critical",
        (admin, NORD),
    ).fetchone()
    assert response.status == 200
    assert before is not None
    assert after == (before[0] + 1,)


def test_the_venue_profile_shows_the_callers_role_and_flags(api: ApiClient) -> None:
    profile = api.get(f"/venues/{CENTRALE}", as_user=USER["head_chef"].id).json()

    assert profile["id"] == str(CENTRALE)
    assert profile["role"] == "head_chef"
    assert "EDIT_PRICES" in profile["permissions"]
    assert "REOPEN_SHIFT" not in profile["permissions"]
    assert profile["group"]["name"] == "io osteria"


def test_an_object_of_another_group_inside_an_allowed_venue_is_not_found(
    api: ApiClient,
) -> None:
    """Given bar lume's catalogue item, when centrale's head chef prices it at centrale,
    then row-level security hides it: 404, not a price for another owner's item."""
    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{menu_item_id('Negroni')}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": 100},
    )

    assert response.status == 404
    assert response.json()["code"] == "not-found"


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ({}, "unauthenticated"),
        ({"authorization": "Bearer not-a-token"}, "unauthenticated"),
        ({"authorization": "Basic dXNlcjpwYXNz"}, "unauthenticated"),
    ],
    ids=["no token", "garbage token", "basic auth"],
)
def test_requests_without_a_valid_token_are_unauthorized(
    api: ApiClient, header: dict[str, str], code: str
) -> None:
    response = api.get(f"/venues/{CENTRALE}/orders", headers=header)

    assert response.status == 401
    assert "orders" not in response.text


def test_the_gate_refuses_a_bad_token_even_when_invoked_around_the_api(
    api: ApiClient,
) -> None:
    """Given a handler invoked directly (not through API Gateway), a forged token is still
    refused by the gate itself."""
    from orders.list_orders import handler

    event = {
        "headers": {"authorization": "Bearer eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0."},
        "pathParameters": {"venue_id": str(CENTRALE)},
        "requestContext": {"http": {"method": "GET", "sourceIp": "203.0.113.9"}},
    }

    response = handler.invoke(event, api.gateway.runtime)

    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"


def test_health_is_public(api: ApiClient) -> None:
    """Liveness answers without a database; readiness asks the database as the venue
    functions' role. Neither needs a token."""
    live = api.get("/health")
    ready = api.get("/health/ready")

    assert (live.status, live.json()) == (200, {"status": "ok"})
    assert (ready.status, ready.json()) == (200, {"status": "ok", "database": "ok"})
