"""The cross-tenant matrix, generated from the route declarations.

Every venue route by every way of asking for another venue. A route added tomorrow is in
this matrix without anyone editing this file.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, NORD, USER, VENUES
from infra.template import load_template, template_routes
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tests.conftest import ROOT

ROUTES = discover(ROOT / "functions")
VENUE_ROUTES = [d for d in ROUTES if d.spec.access is Access.VENUE]
#: Routes a till calls with its device token (the PIN route): covered below, by device.
DEVICE_ROUTES = [d for d in ROUTES if d.spec.access is Access.DEVICE]
ATTACHED_TO_CENTRALE_ONLY = USER["head_chef"].id  # head chef, centrale only
NORD_MARKERS = [str(NORD), "io osteria nord", '"nord"']

# Tables whose rows belong to one venue; their nord rows must not change.
VENUE_TABLES = [
    "venue_attachments",
    "staff_members",
    "menu_item_prices",
    "orders",
    "order_items",
    "venue_settings",
    "audit_outbox",
]


def route_id(declared: DeclaredRoute) -> str:
    return declared.spec.route_key


def path_for(declared: DeclaredRoute, venue_id: uuid.UUID) -> str:
    """The route's path at ``venue_id``, any other id a fresh one."""
    path = declared.spec.path.replace("{venue_id}", str(venue_id))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


def nord_snapshot(admin_db: psycopg.Connection) -> str:
    digest = hashlib.sha256()
    for table in VENUE_TABLES:
        rows = admin_db.execute(
            f"SELECT to_jsonb(t)::text FROM {table} t WHERE venue_id = %s ORDER BY 1",
            (NORD,),
        ).fetchall()
        digest.update(json.dumps([r[0] for r in rows]).encode())
    return digest.hexdigest()


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
