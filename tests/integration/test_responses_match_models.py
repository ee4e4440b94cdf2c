"""Real responses validate against their declared models, so the OpenAPI document (made from
the same models) stays true, including for bodies Postgres shapes and the gate passes
through without validating them (JsonDocument)."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER, diner_id, order_id, recipe_id, supplier_id
from orders.invoicing import invoice_uuid
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.permissions import Permission
from tests.conftest import ROOT

#: A demo object of centrale's (or its group's) for each id a read route's path names.
DEMO_IDS = {
    "venue_id": CENTRALE,
    "recipe_id": recipe_id("Tiramisù"),
    "supplier_id": supplier_id("Caseificio Valle"),
    "customer_id": diner_id("maria", "centrale"),
    "order_id": order_id("centrale", 1),
    # The first invoice the demo seed's orders issued at centrale this (fiscal) year.
    "invoice_id": invoice_uuid(
        CENTRALE, "invoice", dt.datetime.now(ZoneInfo("Europe/Rome")).year, 1
    ),
    # A checkout made on the fake Stripe for the session (the ``demo_checkout`` fixture).
    "checkout_id": None,
}

READS = [
    declared
    for declared in discover(ROOT / "functions")
    if declared.spec.method == "GET"
    and declared.spec.response is not None
    and set(declared.spec.path_params) <= set(DEMO_IDS)
]


@pytest.mark.parametrize("declared", READS, ids=lambda d: d.spec.route_key)
def test_a_real_response_is_valid_for_its_declared_model(
    api: ApiClient, declared: DeclaredRoute, request: pytest.FixtureRequest
) -> None:
    """Given the regional manager (every flag a read needs at centrale but
    MANAGE_PAYMENTS, which the owner holds), or for the platform's own routes
    (/platform/...) the platform admin with a second factor, with a token of the scopes the
    route takes, when they call the read route there, then the answer is 200 and its body
    validates against the model. Payments' reads find centrale onboarded on the fake
    Stripe, with a checkout."""
    ids = dict(DEMO_IDS)
    if "/payments/" in declared.spec.path or "checkout_id" in declared.spec.path_params:
        ids["checkout_id"] = request.getfixturevalue("demo_checkout")
    path = declared.spec.path
    for name in declared.spec.path_params:
        path = path.replace("{" + name + "}", str(ids[name]))
    reader = USER["platform_admin" if path.startswith("/platform/") else "regional"]
    if Permission.MANAGE_PAYMENTS in declared.spec.permission:
        reader = USER["owner"]
    token = None
    if declared.spec.access is not Access.PUBLIC:
        scopes = (declared.spec.accepted_scopes - {"till-session"}) | {"email", "profile"}
        token = api.fresh_token(reader.id, scope=" ".join(sorted(scopes)))

    response = api.get(path, token=token)

    assert response.status == 200, response.text
    assert declared.spec.response is not None
    declared.spec.response.model_validate_json(response.body)


def test_every_read_route_is_covered() -> None:
    """The routes above must not silently shrink: every GET route is in the list (a new id
    in a read route's path needs its demo object in DEMO_IDS), but the pages a browser
    opens, which answer HTML (tests/security/test_pages_every_route.py)."""
    gets = [
        d
        for d in discover(ROOT / "functions")
        if d.spec.method == "GET" and d.spec.errors != "page"
    ]
    assert {d.spec.route_key for d in READS} == {d.spec.route_key for d in gets}
