"""The platform area through the real gate: onboarding groups and venues, the platform's
accounts, disabling and enabling them. Platform admins with a second factor only; every use
and every refusal is a critical audit event."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.keys import LOCAL_ISSUER
from infra.local.mailbox import LocalMailbox
from infra.local.seed import GROUP_IO, USER
from infra.local.signin import Browser
from infra.local.signin import sign_in as sign_in_through
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.permissions import Permission
from tests.conftest import ROOT
from tests.support.demo_users import account_id, copy_of_demo_user, new_user
from tests.support.oauth import assert_invalid_grant, refresh, through_gateway
from tests.support.people import audit_events, email_of

ADMIN = USER["platform_admin"].id
PLATFORM_ROUTES = [d for d in discover(ROOT / "functions") if d.spec.path.startswith("/platform/")]


def a_valid_request(declared: DeclaredRoute, admin_db: psycopg.Connection) -> dict[str, Any]:
    """A request the route would carry out for a platform admin."""
    slug = f"v-{uuid.uuid4().hex[:12]}"
    bodies: dict[str, Any] = {
        "POST /platform/venue-groups": {"name": "Trattoria group"},
        "POST /platform/venues": {
            "group_id": str(GROUP_IO),
            "name": "io osteria sud",
            "slug": slug,
            "owner_email": USER["regional"].email,
        },
        "PATCH /platform/users/{user_id}": {"disabled": True},
    }
    path = declared.spec.path.replace("{user_id}", str(new_user(admin_db, "Target")))
    body = bodies.get(declared.spec.route_key)
    return {"path": path, "json_body": body}


def platform_state(admin_db: psycopg.Connection) -> list[Any]:
    return [
        admin_db.execute(f"SELECT to_jsonb(t)::text FROM {table} t ORDER BY 1").fetchall()
        for table in ("venue_groups", "venues", "venue_settings", "venue_attachments")
    ] + [admin_db.execute("SELECT id, disabled_at FROM users ORDER BY id").fetchall()]


@pytest.mark.parametrize("declared", PLATFORM_ROUTES, ids=lambda d: d.spec.route_key)
@pytest.mark.parametrize(
    ("who", "code"),
    [("manager", "platform-admin-only"), ("admin without a second factor", "mfa-required")],
)
def test_the_platform_area_refuses_anyone_else_and_audits_the_attempt(
    api: ApiClient,
    admin_db: psycopg.Connection,
    declared: DeclaredRoute,
    who: str,
    code: str,
) -> None:
    """Given a regional manager, or a platform admin whose sign-in had no second factor,
    when they make a valid request of a platform route, then they are refused with a stable
    code, nothing is written, and the attempt is a critical audit event."""
    request = a_valid_request(declared, admin_db)
    token = (
        api.fresh_token(USER["regional"].id)
        if who == "manager"
        else api.fresh_token(ADMIN, amr=["pwd"])
    )
    actor = USER["regional"].id if who == "manager" else ADMIN
    before_state = platform_state(admin_db)
    before_events = {e["id"] for e in audit_events(admin_db)}

    response = api.request(declared.spec.method, token=token, **request)

    assert response.status == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code
    assert platform_state(admin_db) == before_state
    events = audit_events(admin_db, after=before_events)
    assert [(e["action"], e["actor_user_id"], e["critical"]) for e in events] == [
        ("platform.access_refused", actor, True)
    ]
    assert events[0]["details"]["route"] == declared.spec.route_key


def test_every_platform_route_is_an_account_route() -> None:
    """The platform area binds no venue: its routes are user routes, found here so a new
    one is refused above without editing this file."""
    assert len(PLATFORM_ROUTES) == 6  # five of the platform area, the audit trail's read
    assert {d.spec.access for d in PLATFORM_ROUTES} == {Access.USER}


def test_onboarding_a_group_and_a_venue_with_its_first_owner(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a platform admin and an account with no venue, when the admin creates a group
    and a venue in it with that account as first owner, then the owner reaches the new
    venue with every flag and sees it in the switcher, its settings exist, and both
    creations are critical audit events with their after values."""
    owner = new_user(admin_db, "New owner")

    group = api.request(
        "POST", "/platform/venue-groups", as_user=ADMIN, json_body={"name": "Trattoria"}
    )
    slug = f"t-{uuid.uuid4().hex[:12]}"
    venue = api.request(
        "POST",
        "/platform/venues",
        as_user=ADMIN,
        json_body={
            "group_id": group.json()["id"],
            "name": "Trattoria uno",
            "slug": slug,
            "timezone": "Europe/London",
            "owner_email": email_of(admin_db, owner),
        },
    )

    assert group.status == 201, group.text
    assert venue.status == 201, venue.text
    venue_id = venue.json()["id"]
    assert venue.json()["owner"]["user_id"] == str(owner)
    assert (venue.json()["currency"], venue.json()["timezone"]) == ("EUR", "Europe/London")
    profile = api.get(f"/venues/{venue_id}", as_user=owner)
    assert profile.status == 200, profile.text
    assert profile.json()["role"] == "owner"
    assert profile.json()["group"]["name"] == "Trattoria"
    switcher = api.get("/me/venues", as_user=owner).json()["venues"]
    assert [(v["id"], v["role"]) for v in switcher] == [(venue_id, "owner")]
    assert admin_db.execute(
        "SELECT created_by FROM venues WHERE id = %s", (venue_id,)
    ).fetchone() == (ADMIN,)
    assert admin_db.execute(
        "SELECT count(*) FROM venue_settings WHERE venue_id = %s", (venue_id,)
    ).fetchone() == (1,)
    (group_event,) = audit_events(
        admin_db, action="platform.venue_group_created", target_id=group.json()["id"]
    )
    (venue_event,) = audit_events(admin_db, action="platform.venue_created", target_id=venue_id)
    assert group_event["critical"]
    assert venue_event["critical"]
    assert group_event["details"] == {"before": None, "after": {"name": "Trattoria"}}
    assert venue_event["details"]["after"]["owner_user_id"] == str(owner)
    assert venue_event["actor_user_id"] == ADMIN


def test_a_venue_whose_first_owner_has_no_account_invites_them(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox
) -> None:
    """Given a platform admin and an address no account has, when the admin creates a venue
    with it as first owner, then the venue exists with no owner attached yet, the answer
    shows the owner as invited (no token), the invitation (owner, every flag) is mailed and
    audited with the venue's creation; once the person accepts the link, their new account
    is the venue's owner with every flag."""
    email = f"owner-{uuid.uuid4().hex[:12]}@trattoria.example"

    venue = api.request(
        "POST",
        "/platform/venues",
        as_user=ADMIN,
        json_body={
            "group_id": str(GROUP_IO),
            "name": "io osteria sud",
            "slug": f"s-{uuid.uuid4().hex[:12]}",
            "owner_email": email,
        },
    )

    assert venue.status == 201, venue.text
    venue_id = venue.json()["id"]
    owner = venue.json()["owner"]
    assert (owner["status"], owner["user_id"], owner["email"]) == ("invited", None, email)
    link = mailbox.last_link(email, kind="invitation")
    assert link is not None
    token = link.rsplit("token=", 1)[1]
    assert token not in venue.text
    assert admin_db.execute(
        "SELECT count(*) FROM venue_attachments WHERE venue_id = %s", (venue_id,)
    ).fetchone() == (0,)
    (invited,) = audit_events(admin_db, action="staff.invited", venue_id=uuid.UUID(venue_id))
    assert (invited["actor_user_id"], invited["target_id"]) == (ADMIN, owner["invitation_id"])
    (created,) = audit_events(admin_db, action="platform.venue_created", target_id=venue_id)
    assert created["details"]["after"]["owner_invitation_id"] == owner["invitation_id"]

    browser = Browser(through_gateway(api))
    page = browser.get(link.removeprefix(LOCAL_ISSUER))
    password = "The-first-owner-2026!"
    accepted = browser.submit(
        page, {"display_name": "Sara", "password": password, "password_again": password}
    )

    assert accepted.status == 200, accepted.text
    new_owner = account_id(admin_db, email)
    assert admin_db.execute(
        "SELECT role, permissions FROM venue_attachments WHERE venue_id = %s AND user_id = %s",
        (venue_id, new_owner),
    ).fetchone() == ("owner", int(Permission.all()))


@pytest.mark.parametrize(
    ("change", "status", "code"),
    [
        ({"group_id": str(uuid.uuid4())}, 404, "not-found"),
        ({"slug": "centrale"}, 409, "slug-taken"),
        ({"timezone": "Mars/Olympus_Mons"}, 422, "invalid-body"),
        ({"slug": "Not A Slug"}, 422, "invalid-body"),
    ],
    ids=["unknown group", "slug taken", "unknown time zone", "bad slug"],
)
def test_a_venue_that_cannot_be_created_is_refused_clearly_and_writes_nothing(
    api: ApiClient,
    admin_db: psycopg.Connection,
    change: dict[str, str],
    status: int,
    code: str,
) -> None:
    body = {
        "group_id": str(GROUP_IO),
        "name": "io osteria sud",
        "slug": f"s-{uuid.uuid4().hex[:12]}",
        "owner_email": USER["regional"].email,
        **change,
    }
    before = platform_state(admin_db)

    response = api.request("POST", "/platform/venues", as_user=ADMIN, json_body=body)

    assert (response.status, response.json()["code"]) == (status, code)
    assert platform_state(admin_db) == before


def test_the_venue_list_shows_every_venue_with_its_group(api: ApiClient) -> None:
    """Given the demo venues of two owners, the platform admin sees them all, and the
    listing is a critical audit event."""
    response = api.get("/platform/venues", as_user=ADMIN)

    assert response.status == 200, response.text
    slugs = {(v["slug"], v["group_name"]) for v in response.json()["venues"]}
    assert {("centrale", "io osteria"), ("nord", "io osteria"), ("lume", "bar lume")} <= slugs


def test_the_user_list_shows_who_holds_the_platform_admin_flag_a_page_at_a_time(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    before = {e["id"] for e in audit_events(admin_db, action="platform.users_listed")}

    everyone = api.get("/platform/users", as_user=ADMIN, query={"limit": "500"}).json()["users"]
    page = api.get(
        "/platform/users", as_user=ADMIN, query={"after": everyone[0]["email"], "limit": "1"}
    ).json()["users"]

    admins = {u["email"] for u in everyone if u["is_platform_admin"]}
    assert USER["platform_admin"].email in admins
    assert USER["manager"].email not in admins
    assert [u["email"] for u in page] == [everyone[1]["email"]]
    new = audit_events(admin_db, action="platform.users_listed", after=before)
    assert len(new) == 2
    assert all(e["critical"] and e["actor_user_id"] == ADMIN for e in new)


# --- disabling and enabling accounts -----------------------------------------------------


def test_a_disabled_account_is_refused_on_every_route_and_at_refresh(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a waiter signed in through the issuer (an access token with minutes to live,
    asking for openid too so that it opens UserInfo as well, and a refresh token), when a
    platform admin disables the account, then the same token is refused on every route a
    person's token opens (account-disabled), the refresh token is refused, and the change
    is a critical audit event with before and after."""
    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=True)
    person = account_id(admin_db, email)
    tokens = sign_in_through(through_gateway(api), email, scope="openid account venue")
    assert api.get("/me", token=tokens["access_token"]).status == 200

    disabled = api.patch(f"/platform/users/{person}", as_user=ADMIN, json_body={"disabled": True})

    assert disabled.status == 200, disabled.text
    assert disabled.json()["disabled"] is True
    for declared in discover(ROOT / "functions"):
        if declared.spec.access not in (Access.USER, Access.VENUE):
            continue  # public routes, and the till's device route (a person's token is no till's)
        path = declared.spec.path
        for name in declared.spec.path_params:
            path = path.replace("{" + name + "}", str(uuid.uuid4()))
        response = api.request(
            declared.spec.method, path, token=tokens["access_token"], json_body={}
        )
        assert (response.status, response.json()["code"]) == (401, "account-disabled"), (
            declared.spec.route_key
        )
    assert_invalid_grant(refresh(api, tokens["refresh_token"]))
    (event,) = audit_events(admin_db, action="platform.account_disabled", target_id=str(person))
    assert event["critical"]
    assert event["details"] == {"before": {"disabled": False}, "after": {"disabled": True}}


def test_an_enabled_account_is_served_again(api: ApiClient, admin_db: psycopg.Connection) -> None:
    """Given a disabled account, when a platform admin enables it, then its next request is
    served and the change is audited."""
    person = new_user(admin_db, "Returning")
    admin_db.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (person,))
    token = api.fresh_token(person)
    assert api.get("/me", token=token).status == 401

    enabled = api.patch(f"/platform/users/{person}", as_user=ADMIN, json_body={"disabled": False})

    assert enabled.status == 200, enabled.text
    assert api.get("/me", token=token).status == 200
    (event,) = audit_events(admin_db, action="platform.account_enabled", target_id=str(person))
    assert event["details"]["before"] == {"disabled": True}


def test_a_platform_admin_cannot_disable_their_own_account(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    response = api.patch(f"/platform/users/{ADMIN}", as_user=ADMIN, json_body={"disabled": True})

    assert (response.status, response.json()["code"]) == (403, "own-account")
    assert admin_db.execute("SELECT disabled_at FROM users WHERE id = %s", (ADMIN,)).fetchone() == (
        None,
    )


def test_an_unknown_account_is_not_found(api: ApiClient) -> None:
    response = api.patch(
        f"/platform/users/{uuid.uuid4()}", as_user=ADMIN, json_body={"disabled": True}
    )

    assert (response.status, response.json()["code"]) == (404, "not-found")
