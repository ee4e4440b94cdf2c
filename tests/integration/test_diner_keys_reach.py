"""Each diner route reaches exactly the keys its declaration's `needs` grant it in AWS (the
identity salt, the app keys): nothing undeclared, nothing declared in vain."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from customers.config import DinerKeys
from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER, demo_diner_keys, diner_id
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.runtime import Runtime
from tenancy.sealing import IdentityKey, SealedBox
from tenancy.spec import Need
from tests.conftest import ROOT

ROUTES = [d for d in discover(ROOT / "functions") if d.handler.startswith("customers.")]
BODIES: dict[str, Any] = {
    "POST /venues/{venue_id}/customers": lambda: {"email": f"{uuid.uuid4().hex}@example.com"},
    "PUT /venues/{venue_id}/customers/{customer_id}/dietary": lambda: {
        "allergens": ["peanuts", "tree_nuts"],
        "dietary_notes": "carries an adrenaline pen",
    },
    "POST /venues/{venue_id}/customers/{customer_id}/visits": lambda: {"party_size": 2},
    "PUT /venues/{venue_id}/customers/{customer_id}/consent": lambda: {"share_group_history": True},
}


class RecordingKeys(DinerKeys):
    """The demo keys, noting which of them a request reached."""

    def __init__(self) -> None:
        demo = demo_diner_keys()
        super().__init__(demo.settings)
        self.reached: set[Need] = set()

    @property
    def box(self) -> SealedBox:
        self.reached.add(Need.APP_KEYS)
        return super().box

    @property
    def identity(self) -> IdentityKey:
        self.reached.add(Need.IDENTITY_SALT)
        return super().identity


@pytest.fixture
def recording(runtime: Runtime) -> Iterator[RecordingKeys]:
    keys = RecordingKeys()
    previous = runtime.collaborators[DinerKeys]
    runtime.collaborators[DinerKeys] = keys
    try:
        yield keys
    finally:
        runtime.collaborators[DinerKeys] = previous


@pytest.mark.parametrize("declared", ROUTES, ids=lambda d: d.spec.route_key)
def test_a_diner_route_reaches_exactly_the_keys_it_declares(
    api: ApiClient, recording: RecordingKeys, declared: DeclaredRoute
) -> None:
    """Given the regional manager of centrale (every flag these routes look at), when they
    call the route for a demo diner, then the keys it reached are its declared needs."""
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE)).replace(
        "{customer_id}", str(diner_id("maria", "centrale"))
    )
    body = BODIES.get(declared.spec.route_key)

    response = api.request(
        declared.spec.method,
        path,
        as_user=USER["regional"].id,
        json_body=None if body is None else body(),
    )

    assert response.status < 300, response.text
    assert recording.reached == declared.spec.needs & {Need.APP_KEYS, Need.IDENTITY_SALT}


def test_every_diner_route_is_covered() -> None:
    """The list above must not silently shrink."""
    assert len(ROUTES) == 6
