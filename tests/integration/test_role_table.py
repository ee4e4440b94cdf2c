"""The role behaviour table (docs/architecture.md, "Roles and permission flags") through the
real gate, with the demo people: each row is what a person of that role meets."""

from __future__ import annotations

import uuid

import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER, menu_item_id
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.permissions import ROLE_DEFAULTS, Permission, Role
from tests.conftest import ROOT

VENUE_ROUTES = [d for d in discover(ROOT / "functions") if d.spec.access is Access.VENUE]


def at(declared: DeclaredRoute, venue_id: uuid.UUID) -> str:
    path = declared.spec.path.replace("{venue_id}", str(venue_id))
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(uuid.uuid4()))
    return path


def test_a_casual_is_served_the_orders_queue(api: ApiClient) -> None:
    """Given the casual at nord (the seed's Anna), the orders queue is theirs to see."""
    response = api.get(f"/venues/{NORD}/orders", as_user=USER["casual"].id)

    assert response.status == 200, response.text


CASUAL = ROLE_DEFAULTS[Role.CASUAL]


def test_a_casuals_attachment_holds_the_orders_queues_flag_alone(api: ApiClient) -> None:
    """Given the casual at nord, the gate finds their attachment holding VIEW_ORDERS and
    nothing else (the venue profile shows what it found)."""
    profile = api.get(f"/venues/{NORD}", as_user=USER["casual"].id).json()

    assert CASUAL == Permission.VIEW_ORDERS
    assert (profile["role"], profile["permissions"]) == ("casual", ["VIEW_ORDERS"])


@pytest.mark.parametrize(
    "declared",
    [d for d in VENUE_ROUTES if d.spec.permission & ~CASUAL],
    ids=lambda d: d.spec.route_key,
)
def test_a_casual_is_refused_everything_else(api: ApiClient, declared: DeclaredRoute) -> None:
    """Given the casual at nord, when they call any venue route that needs a flag beyond
    the orders queue's, then they are refused, told which flags they lack. (Routes that
    need no flag, or VIEW_ORDERS alone, such as the venue's profile and its menu, are open
    to them as to everyone attached.)"""
    response = api.request(
        declared.spec.method, at(declared, NORD), as_user=USER["casual"].id, json_body={}
    )

    assert response.status == 403, response.text
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == (declared.spec.permission & ~CASUAL).names()


def test_a_waiter_cannot_edit_prices(api: ApiClient) -> None:
    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{menu_item_id('Tiramisù')}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )

    assert response.status == 403
    assert response.json()["missing_permissions"] == ["EDIT_PRICES"]


def test_a_head_chef_cannot_reopen_a_closed_shift(api: ApiClient) -> None:
    """Given the head chef of centrale (who closes shifts) and the regional manager there,
    when each asks to reopen a shift, then the gate refuses the head chef naming
    REOPEN_SHIFT, and lets the regional manager through to the shift itself (this one does
    not exist: 404 from the handler, past the flag check)."""
    path = f"/venues/{CENTRALE}/shifts/{uuid.uuid4()}/reopen"

    chef = api.request("POST", path, as_user=USER["head_chef"].id)
    regional = api.request("POST", path, as_user=USER["regional"].id)

    assert Permission.CLOSE_SHIFT in ROLE_DEFAULTS[Role.HEAD_CHEF]
    assert chef.status == 403
    assert chef.json()["code"] == "permission-denied"
    assert chef.json()["missing_permissions"] == ["REOPEN_SHIFT"]
    assert (regional.status, regional.json()["code"]) == (404, "not-found")


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
