"""Real responses validate against their declared models, so the OpenAPI document (made from
the same models) stays true, including for bodies Postgres shapes and the gate passes
through without validating them (JsonDocument)."""

from __future__ import annotations

import pytest

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tests.conftest import ROOT

READS = [
    declared
    for declared in discover(ROOT / "functions")
    if declared.spec.method == "GET"
    and declared.spec.response is not None
    and set(declared.spec.path_params) <= {"venue_id"}
]


@pytest.mark.parametrize("declared", READS, ids=lambda d: d.spec.route_key)
def test_a_real_response_is_valid_for_its_declared_model(
    api: ApiClient, declared: DeclaredRoute
) -> None:
    """Given the regional manager (every flag a read needs at centrale), with a token of the
    scopes the route takes, when they call the read route there, then the answer is 200 and
    its body validates against the model."""
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE))
    token = None
    if declared.spec.access is not Access.PUBLIC:
        scope = " ".join(sorted(declared.spec.accepted_scopes | {"email", "profile"}))
        token = api.fresh_token(USER["regional"].id, scope=scope)

    response = api.get(path, token=token)

    assert response.status == 200, response.text
    assert declared.spec.response is not None
    declared.spec.response.model_validate_json(response.body)


def test_every_read_route_is_covered() -> None:
    """The routes above must not silently shrink: every GET route without ids beyond the
    venue's is in the list (today all GET routes are), but the pages a browser opens, which
    answer HTML (tests/security/test_pages_every_route.py)."""
    gets = [
        d
        for d in discover(ROOT / "functions")
        if d.spec.method == "GET" and d.spec.errors != "page"
    ]
    assert {d.spec.route_key for d in READS} == {d.spec.route_key for d in gets}
