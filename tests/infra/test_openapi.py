"""docs/openapi.json is what the route declarations say today."""

from __future__ import annotations

import json

from infra.openapi import build, render
from tenancy.catalogue import discover
from tests.conftest import ROOT


def test_the_committed_openapi_document_is_current() -> None:
    committed = (ROOT / "docs/openapi.json").read_text()

    assert committed == render(), "docs/openapi.json is stale: run `make openapi`"


def test_every_declared_route_is_documented_with_its_refusals() -> None:
    document = build()

    for declared in discover(ROOT / "functions"):
        operation = document["paths"][declared.spec.path][declared.spec.method.lower()]
        assert "403" in operation["responses"]
        assert operation["summary"] == declared.spec.summary
    json.dumps(document)  # serialisable as it stands
