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
    """Given the regional manager (every flag a read needs at centrale), or for the
    platform's own routes (/platform/...) the platform admin with a second factor, when they
    call the read route there, then the answer is 200 and its body validates against the
    model."""
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE))
    reader = USER["platform_admin" if path.startswith("/platform/") else "regional"]
    as_user = None if declared.spec.access is Access.PUBLIC else reader.id

    response = api.get(path, as_user=as_user)

    assert response.status == 200, response.text
    assert declared.spec.response is not None
    declared.spec.response.model_validate_json(response.body)


def test_every_read_route_is_covered() -> None:
    """The routes above must not silently shrink: every GET route without ids beyond the
    venue's is in the list (today all GET routes are)."""
    gets = [d for d in discover(ROOT / "functions") if d.spec.method == "GET"]
    assert {d.spec.route_key for d in READS} == {d.spec.route_key for d in gets}
