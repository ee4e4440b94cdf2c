"""The role behaviour table (docs/architecture.md, "Roles and permission flags") through the
real gate, with the demo people: each row is what a person of that role meets."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER, menu_item_id
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access, Route
from tests.conftest import ROOT

VENUE_ROUTES = [d for d in discover(ROOT / "functions") if d.spec.access is Access.VENUE]
ORDERS_QUEUE = "GET /venues/{venue_id}/orders"


def at(declared: DeclaredRoute, venue_id: uuid.UUID) -> str:
    path = declared.spec.path.replace("{venue_id}", str(venue_id))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


def test_a_casual_is_served_the_orders_queue(api: ApiClient) -> None:
    """Given the casual at nord (the seed's Anna), the orders queue is theirs to see."""
    response = api.get(f"/venues/{NORD}/orders", as_user=USER["casual"].id)

    assert response.status == 200, response.text


@pytest.mark.parametrize(
    "declared",
    [d for d in VENUE_ROUTES if d.spec.permission and d.spec.route_key != ORDERS_QUEUE],
    ids=lambda d: d.spec.route_key,
)
def test_a_casual_is_refused_everything_else(api: ApiClient, declared: DeclaredRoute) -> None:
    """Given the casual at nord, when they call any venue route that needs a flag other than
    the orders queue's, then they are refused, told which flag they lack. (A route that
    needs no flag, the venue's own profile, is open to everyone attached.)"""
    response = api.request(
        declared.spec.method, at(declared, NORD), as_user=USER["casual"].id, json_body={}
    )

    assert response.status == 403, response.text
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == declared.spec.permission.names()


def test_a_waiter_cannot_edit_prices(api: ApiClient) -> None:
    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{menu_item_id('Tiramisù')}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )

    assert response.status == 403
    assert response.json()["missing_permissions"] == ["EDIT_PRICES"]


def _reopen(request: VenueRequest[NoQuery, NoBody]) -> None:
    return None


#: A shift route as the venue service will declare it; there are no shifts yet, so the test
#: declares it to put the REOPEN_SHIFT check itself through the gate.
REOPEN_SHIFT = venue_route(
    "POST",
    "/venues/{venue_id}/shifts/{shift_id}/reopen",
    summary="Reopen a closed shift",
    permission=Permission.REOPEN_SHIFT,
)(_reopen)


def invoke(api: ApiClient, route: Route, user: uuid.UUID, venue_id: uuid.UUID) -> dict[str, Any]:
    event = {
        "headers": {"authorization": f"Bearer {api.token_for(user)}"},
        "pathParameters": {"venue_id": str(venue_id), "shift_id": str(uuid.uuid4())},
        "requestContext": {"http": {"method": "POST", "sourceIp": "198.51.100.7"}},
    }
    return route.invoke(event, api.gateway.runtime)


def test_a_head_chef_cannot_reopen_a_closed_shift(api: ApiClient) -> None:
    """Given the head chef of centrale (who closes shifts) and the regional manager there,
    when each calls a route that needs REOPEN_SHIFT, then the gate refuses the head chef
    naming the flag, and lets the regional manager through."""
    chef = invoke(api, REOPEN_SHIFT, USER["head_chef"].id, CENTRALE)
    regional = invoke(api, REOPEN_SHIFT, USER["regional"].id, CENTRALE)

    assert chef["statusCode"] == 403
    assert '"missing_permissions":["REOPEN_SHIFT"]' in chef["body"]
    assert regional["statusCode"] == 204


def test_a_manager_sees_only_their_venue_and_is_refused_the_other(api: ApiClient) -> None:
    """Given the manager of nord, then the venue switcher lists nord alone, and centrale's
    orders are refused with "you don't have access to that venue"."""
    manager = USER["manager"].id

    venues = api.get("/me/venues", as_user=manager).json()["venues"]
    centrale = api.get(f"/venues/{CENTRALE}/orders", as_user=manager)

    assert [(v["id"], v["role"]) for v in venues] == [(str(NORD), "manager")]
    assert centrale.status == 403
    assert centrale.json()["code"] == "venue-access-denied"
    assert centrale.json()["detail"] == "you don't have access to that venue"


def test_a_regional_manager_reaches_both_venues_and_not_a_third(api: ApiClient) -> None:
    """Given the regional manager of centrale and nord, then both venues serve them, and bar
    lume (another owner's) refuses them."""
    regional = USER["regional"].id

    served = [api.get(f"/venues/{venue}/orders", as_user=regional) for venue in (CENTRALE, NORD)]
    lume = api.get(f"/venues/{LUME}/orders", as_user=regional)

    assert [response.status for response in served] == [200, 200]
    assert lume.status == 403
    assert lume.json()["code"] == "venue-access-denied"
