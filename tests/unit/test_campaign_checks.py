"""The campaigns' checks can fail: what they would report, on answers made up here."""

from __future__ import annotations

import json

from infra.local.client import Response
from infra.local.seed import NORD
from tenancy.catalogue import DeclaredRoute
from tests.campaign.nord import NordInventory
from tests.campaign.test_fuzz_every_route import ROUTES, Request, judge

NORD_ORDER = "11111111-2222-4333-8444-555555555555"
INVENTORY = NordInventory({NORD_ORDER, str(NORD)}, {"Nordwind cook"}, {"0e6b1bee": 1987})
ASKED = Request("GET", "/venues/x/orders", {}, b"", {})


def route(key: str) -> DeclaredRoute:
    return next(d for d in ROUTES if d.spec.route_key == key)


def answer(status: int, body: object, media: str = "application/json") -> Response:
    return Response(status, {"content-type": media}, json.dumps(body).encode())


def test_a_nord_id_or_value_in_an_answer_is_found_unless_the_request_carried_it() -> None:
    text = json.dumps({"orders": [{"id": NORD_ORDER, "staff": "Nordwind cook"}]})

    assert INVENTORY.found_in(text, sent="") == [NORD_ORDER, "Nordwind cook"]
    assert INVENTORY.found_in(text, sent=f"/orders/{NORD_ORDER} Nordwind cook") == []


def test_nords_own_price_of_an_item_is_found() -> None:
    text = json.dumps({"items": [{"id": "0e6b1bee", "price_cents": 1987}]})

    assert INVENTORY.found_in(text, sent="") == ["nord's price 1987 of item 0e6b1bee"]
    assert INVENTORY.found_in(text.replace("1987", "1650"), sent="") == []


def test_a_5xx_an_undocumented_status_and_a_body_off_its_schema_are_findings() -> None:
    orders = route("GET /venues/{venue_id}/orders")

    assert judge(orders, ASKED, answer(500, {}), INVENTORY)
    assert judge(orders, ASKED, answer(201, {"orders": []}), INVENTORY)
    assert judge(orders, ASKED, answer(200, {"orders": "none"}), INVENTORY)
    assert judge(orders, ASKED, answer(403, {"message": "Forbidden"}), INVENTORY)
    assert judge(orders, ASKED, answer(404, "no", media="text/plain"), INVENTORY)
    assert judge(orders, ASKED, answer(200, {"orders": []}), INVENTORY) == []
