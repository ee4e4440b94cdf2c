"""The cross-tenant matrix, generated from the route declarations.

Every venue route by every way of asking for another venue: as a person, as a till session
and as a till's device. A route added tomorrow is in this matrix without anyone editing
this file.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, GROUP_IO, NORD, USER, VENUES
from infra.template import load_template, template_routes
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tests.conftest import ROOT
from tests.support.tills import Till, device_token, register_till, till_session

ROUTES = discover(ROOT / "functions")
VENUE_ROUTES = [d for d in ROUTES if d.spec.access is Access.VENUE]
#: Routes a till calls with its device token (the PIN route): covered below, by device.
DEVICE_ROUTES = [d for d in ROUTES if d.spec.access is Access.DEVICE]
ATTACHED_TO_CENTRALE_ONLY = USER["head_chef"].id  # head chef, centrale only
NORD_MARKERS = [str(NORD), "io osteria nord", '"nord"']
CENTRALE_MARKERS = [str(CENTRALE), "io osteria centrale", '"centrale"']
#: Routes a till session may call, and the venue routes it may not.
TILL_ROUTES = [d for d in VENUE_ROUTES if d.spec.till]
PEOPLE_ONLY_ROUTES = [d for d in VENUE_ROUTES if not d.spec.till]

# Tables whose rows belong to one venue; their nord rows must not change.
VENUE_TABLES = [
    "venue_attachments",
    "staff_members",
    "menu_item_prices",
    "orders",
    "order_items",
    "order_counters",
    "invoice_counters",
    "invoices",
    "venue_settings",
    "audit_outbox",
    "diners",
    "diner_visits",
    "diner_consents",
    "till_device_venues",
    "staff_pins",
    "till_sessions",
    "checkouts",
    "refunds",
    "payment_accounts",
]
# Tables whose rows belong to a group; io osteria's must not change for another group.
GROUP_TABLES = ["menu_items", "recipes", "suppliers"]
#: Bar lume's owner: every flag, at another owner's group.
OTHER_GROUPS_OWNER = USER["owner_lume"].id


def route_id(declared: DeclaredRoute) -> str:
    return declared.spec.route_key


def path_for(declared: DeclaredRoute, venue_id: uuid.UUID) -> str:
    """The route's path at ``venue_id``, any other id a fresh one."""
    path = declared.spec.path.replace("{venue_id}", str(venue_id))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


def snapshot_of(admin_db: psycopg.Connection, venue_id: uuid.UUID) -> str:
    digest = hashlib.sha256()
    for table in VENUE_TABLES:
        rows = admin_db.execute(
            f"SELECT to_jsonb(t)::text FROM {table} t WHERE venue_id = %s ORDER BY 1",
            (venue_id,),
        ).fetchall()
        digest.update(json.dumps([r[0] for r in rows]).encode())
    return digest.hexdigest()


def io_snapshot(admin_db: psycopg.Connection) -> str:
    """io osteria's rows: its venues' and its group's."""
    digest = hashlib.sha256()
    for table in VENUE_TABLES:
        rows = admin_db.execute(
            f"SELECT to_jsonb(t)::text FROM {table} t WHERE venue_id = ANY(%s) ORDER BY 1",
            ([CENTRALE, NORD],),
        ).fetchall()
        digest.update(json.dumps([r[0] for r in rows]).encode())
    for table in GROUP_TABLES:
        rows = admin_db.execute(
            f"SELECT to_jsonb(t)::text FROM {table} t WHERE group_id = %s ORDER BY 1",
            (GROUP_IO,),
        ).fetchall()
        digest.update(json.dumps([r[0] for r in rows]).encode())
    return digest.hexdigest()


def nord_snapshot(admin_db: psycopg.Connection) -> str:
    return snapshot_of(admin_db, NORD)


def smuggling_requests(nord: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """Every place other than the path where a client could name another venue."""
    return [
        ("body", {"json_body": {"venue_id": str(nord)}}),
        ("query", {"query": {"venue_id": str(nord), "venue": str(nord)}}),
        ("headers", {"headers": {"x-venue-id": str(nord), "venue-id": str(nord)}}),
    ]


def assert_no_nord_data(response: Response) -> None:
    for marker in NORD_MARKERS:
        assert marker not in response.text, f"nord data leaked: {marker!r} in {response.text}"


def assert_no_centrale_data(response: Response) -> None:
    for marker in CENTRALE_MARKERS:
        assert marker not in response.text, f"centrale data leaked: {marker!r}"


def assert_problem(response: Response, status: int, code: str) -> None:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.mark.parametrize("declared", VENUE_ROUTES, ids=route_id)
@pytest.mark.parametrize("where", ["path only", "body", "query", "headers"])
def test_asking_for_another_venue_by_path_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, where: str
) -> None:
    """Given a user attached only to centrale, when they ask for nord by path (with nord's id
    also in the body, query or headers), then they get the venue refusal and nothing changes."""
    extra = dict(smuggling_requests(NORD)).get(where, {})
    before = nord_snapshot(admin_db)

    response = api.request(
        declared.spec.method, path_for(declared, NORD), as_user=ATTACHED_TO_CENTRALE_ONLY, **extra
    )

    assert response.status == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "venue-access-denied"
    assert response.json()["detail"] == "you don't have access to that venue"
    assert_no_nord_data(response)
    assert nord_snapshot(admin_db) == before


@pytest.mark.parametrize("declared", VENUE_ROUTES, ids=route_id)
def test_refusal_is_identical_for_a_venue_that_does_not_exist(
    api: ApiClient, declared: DeclaredRoute
) -> None:
    """Given a user of centrale, when they ask for nord and for a venue that does not exist,
    then both answers are byte-identical: the refusal reveals nothing about existence."""
    nord = api.request(
        declared.spec.method, path_for(declared, NORD), as_user=ATTACHED_TO_CENTRALE_ONLY
    )
    nowhere = api.request(
        declared.spec.method, path_for(declared, uuid.uuid4()), as_user=ATTACHED_TO_CENTRALE_ONLY
    )

    assert (nord.status, nord.body) == (nowhere.status, nowhere.body)


@pytest.mark.parametrize("declared", VENUE_ROUTES, ids=route_id)
@pytest.mark.parametrize("where", ["body", "query", "headers"])
def test_another_venue_named_inside_an_allowed_request_is_ignored(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, where: str
) -> None:
    """Given a user of centrale, when they ask for centrale but put nord's id in the body,
    query or headers, then they are refused or served centrale only, and nord is untouched."""
    extra = dict(smuggling_requests(NORD))[where]
    before = nord_snapshot(admin_db)

    response = api.request(
        declared.spec.method,
        path_for(declared, CENTRALE),
        as_user=ATTACHED_TO_CENTRALE_ONLY,
        **extra,
    )

    assert response.status < 500, response.text
    assert_no_nord_data(response)
    assert nord_snapshot(admin_db) == before


@pytest.mark.parametrize("declared", VENUE_ROUTES, ids=route_id)
@pytest.mark.parametrize("venue", [CENTRALE, NORD], ids=["centrale", "nord"])
def test_an_owner_of_another_group_is_refused_at_every_venue_of_this_group(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, venue: uuid.UUID
) -> None:
    """Given bar lume's owner (every flag, in another owner's group), when they ask for a
    venue of io osteria on any venue route, then they get the venue refusal, see nothing of
    io osteria and change nothing of its venues or its group."""
    before = io_snapshot(admin_db)

    response = api.request(
        declared.spec.method,
        path_for(declared, venue),
        as_user=OTHER_GROUPS_OWNER,
        json_body={} if declared.spec.method in ("POST", "PUT", "PATCH") else None,
    )

    assert response.status == 403, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "venue-access-denied"
    assert "io osteria" not in response.text
    assert io_snapshot(admin_db) == before


def test_the_matrix_covers_every_venue_route() -> None:
    """The matrix must not silently shrink: every venue route of the template is in it (the
    routes people call, and those a till calls with its device token)."""
    declared = {d.spec.route_key for d in VENUE_ROUTES + DEVICE_ROUTES}
    in_template = {
        f"{r.method} {r.path}"
        for r in template_routes(load_template())
        if r.path.startswith("/venues/{venue_id}")
    }
    assert declared == in_template
    assert len(VENUES) >= 2


# --- till sessions ------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nord_till(api: ApiClient) -> Till:
    """A till of nord's, registered for this module by nord's manager."""
    return register_till(api, NORD, manager="manager")


@pytest.fixture(scope="module")
def nord_till_session(api: ApiClient, nord_till: Till) -> str:
    """A till session's token: nord's manager (every flag but payments) on nord's till."""
    token: str = till_session(api, nord_till, "manager")["access_token"]
    return token


@pytest.mark.parametrize("declared", VENUE_ROUTES + DEVICE_ROUTES, ids=route_id)
def test_a_till_session_asking_for_another_venue_is_told_to_lock(
    api: ApiClient, admin_db: psycopg.Connection, nord_till_session: str, declared: DeclaredRoute
) -> None:
    """Given a till session of nord (its manager), when it asks for centrale on any venue
    route (open to tills or not, the PIN route too), then it is told to lock the till,
    learns nothing of centrale, and nothing changes there."""
    before = snapshot_of(admin_db, CENTRALE)

    response = api.request(
        declared.spec.method, path_for(declared, CENTRALE), token=nord_till_session
    )

    assert_problem(response, 403, "till-locked")
    assert "lock the till" in response.json()["detail"]
    assert_no_centrale_data(response)
    assert snapshot_of(admin_db, CENTRALE) == before


@pytest.mark.parametrize("declared", VENUE_ROUTES + DEVICE_ROUTES, ids=route_id)
def test_a_till_sessions_refusal_is_identical_for_a_venue_that_does_not_exist(
    api: ApiClient, nord_till_session: str, declared: DeclaredRoute
) -> None:
    """Given a till session of nord, when it asks for centrale and for a venue that does not
    exist, then both answers are byte-identical."""
    centrale = api.request(
        declared.spec.method, path_for(declared, CENTRALE), token=nord_till_session
    )
    nowhere = api.request(
        declared.spec.method, path_for(declared, uuid.uuid4()), token=nord_till_session
    )

    assert (centrale.status, centrale.body) == (nowhere.status, nowhere.body)


@pytest.mark.parametrize("declared", PEOPLE_ONLY_ROUTES + DEVICE_ROUTES, ids=route_id)
def test_a_till_session_is_refused_outright_where_tills_are_not_declared(
    api: ApiClient, admin_db: psycopg.Connection, nord_till_session: str, declared: DeclaredRoute
) -> None:
    """Given a till session of nord whose manager holds the flags of every such route, when
    it calls, at nord itself, a route not declared till=True, then it is refused for its
    token (insufficient-scope) and nothing changes at nord."""
    before = nord_snapshot(admin_db)

    response = api.request(
        declared.spec.method,
        path_for(declared, NORD),
        token=nord_till_session,
        json_body={} if declared.spec.method in ("POST", "PUT", "PATCH") else None,
    )

    assert_problem(response, 403, "insufficient-scope")
    assert nord_snapshot(admin_db) == before


@pytest.mark.parametrize("declared", TILL_ROUTES, ids=route_id)
@pytest.mark.parametrize("where", ["path only", "body", "query", "headers"])
def test_a_till_session_at_its_own_venue_is_let_in_and_sees_nothing_of_another(
    api: ApiClient, admin_db: psycopg.Connection, declared: DeclaredRoute, where: str
) -> None:
    """Given a fresh till session of nord, when it calls a route declared till=True at nord
    (with centrale's id also in the body, query or headers), then the gate lets it in (no
    venue or scope refusal), no answer carries centrale's data and centrale is untouched."""
    extra = dict(smuggling_requests(CENTRALE)).get(where, {})
    session = till_session(api, register_till(api, NORD, manager="manager"), "manager")
    before = snapshot_of(admin_db, CENTRALE)

    response = api.request(
        declared.spec.method, path_for(declared, NORD), token=session["access_token"], **extra
    )

    assert response.status < 500, response.text
    if response.status >= 400:
        assert response.json()["code"] not in (
            "till-locked",
            "insufficient-scope",
            "venue-access-denied",
            "session-ended",
        ), response.text
    assert_no_centrale_data(response)
    assert snapshot_of(admin_db, CENTRALE) == before


# --- a till's device token ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def centrale_device(api: ApiClient) -> str:
    """The device token of a till of centrale's, registered for this module."""
    return device_token(api, register_till(api, CENTRALE))


def failed_pins(admin_db: psycopg.Connection) -> int:
    row = admin_db.execute("SELECT count(*) FROM sign_in_failures WHERE scope = 'till'").fetchone()
    assert row is not None
    return int(row[0])


@pytest.mark.parametrize("declared", DEVICE_ROUTES, ids=route_id)
def test_a_till_asking_for_a_venue_it_does_not_serve_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, centrale_device: str, declared: DeclaredRoute
) -> None:
    """Given a till of centrale, when its device token asks for nord (with a body the route
    would take), then it gets the venue refusal, byte-identical to a venue that does not
    exist; nothing changes at nord and no wrong PIN is counted."""
    before, failures = nord_snapshot(admin_db), failed_pins(admin_db)

    nord = api.request(
        declared.spec.method, path_for(declared, NORD), token=centrale_device, json_body={}
    )
    nowhere = api.request(
        declared.spec.method, path_for(declared, uuid.uuid4()), token=centrale_device, json_body={}
    )

    assert_problem(nord, 403, "venue-access-denied")
    assert (nord.status, nord.body) == (nowhere.status, nowhere.body)
    assert_no_nord_data(nord)
    assert (nord_snapshot(admin_db), failed_pins(admin_db)) == (before, failures)


@pytest.mark.parametrize("declared", DEVICE_ROUTES, ids=route_id)
@pytest.mark.parametrize("venue", [CENTRALE, NORD], ids=["own venue", "another venue"])
def test_a_person_cannot_call_a_route_of_the_tills_devices(
    api: ApiClient, declared: DeclaredRoute, venue: uuid.UUID
) -> None:
    """Given centrale's head chef, when their token calls a route a till calls with its
    device token, at centrale or at nord, then it is refused for its token."""
    response = api.request(
        declared.spec.method,
        path_for(declared, venue),
        as_user=ATTACHED_TO_CENTRALE_ONLY,
        json_body={},
    )

    assert_problem(response, 403, "insufficient-scope")


NON_PUBLIC = [d for d in ROUTES if d.spec.access is not Access.PUBLIC]


@pytest.mark.parametrize("declared", NON_PUBLIC, ids=route_id)
def test_a_till_without_a_session_reaches_only_the_pin_route(
    api: ApiClient, centrale_device: str, declared: DeclaredRoute
) -> None:
    """Given a till of centrale with its device token and no till session, when it calls
    any route that takes a token, at centrale, then only the device routes (the PIN route)
    let it in (it gets as far as its input: no body is a 400); every other is refused for
    its token and shows no data."""
    response = api.request(
        declared.spec.method, path_for(declared, CENTRALE), token=centrale_device
    )

    if declared.spec.access is Access.DEVICE:
        assert_problem(response, 400, "missing-body")
    else:
        assert_problem(response, 403, "insufficient-scope")
        assert "orders" not in response.json()
