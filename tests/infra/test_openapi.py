"""docs/openapi.json is what the route declarations say today."""

from __future__ import annotations

import json
from typing import Any

import pytest

from infra.openapi import REFUSALS, build, render
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.spec import StrictBody
from tests.conftest import ROOT
from tests.support.openapi import document, schema_errors


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


DECLARED = discover(ROOT / "functions")


def operation_of(declared: DeclaredRoute) -> dict[str, Any]:
    operation: dict[str, Any] = document()["paths"][declared.spec.path][
        declared.spec.method.lower()
    ]
    return operation


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.spec.route_key)
def test_every_operation_names_its_security_scheme(declared: DeclaredRoute) -> None:
    """Given a route that takes a token, its operation asks for a bearer token or an OAuth2
    token of one of the scopes the gate accepts there; a public route asks for none."""
    security = operation_of(declared)["security"]
    schemes = document()["components"]["securitySchemes"]

    if declared.spec.access is Access.PUBLIC:
        assert security == []
    else:
        assert {"bearerAuth": []} in security
        scopes = {s for requirement in security for s in requirement.get("oauth2", [])}
        assert scopes == set(declared.spec.accepted_scopes)
        offered = schemes["oauth2"]["flows"]["authorizationCode"]["scopes"]
        assert scopes <= set(offered) | {"till"}
    assert {name for requirement in security for name in requirement} <= set(schemes)


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.spec.route_key)
def test_every_refusal_is_documented_in_the_routes_error_shape(declared: DeclaredRoute) -> None:
    """Every 4xx of an operation is a problem+json with the Problem schema (RFC 6749's error
    for the OAuth endpoints, an HTML page for the sign-in pages)."""
    refusals = {
        status: response
        for status, response in operation_of(declared)["responses"].items()
        if status.startswith("4")
    }
    expected = {
        "problem": ("application/problem+json", {"$ref": "#/components/schemas/Problem"}),
        "oauth": ("application/json", {"$ref": "#/components/schemas/OAuthError"}),
        "page": ("text/html", {"type": "string"}),
    }[declared.spec.errors]

    assert {"400", "401", "403", "404", "422"} <= set(refusals)
    for response in refusals.values():
        ((media, content),) = response["content"].items()
        assert (media, content["schema"]) == expected


@pytest.mark.parametrize("declared", DECLARED, ids=lambda d: d.spec.route_key)
def test_every_body_and_answer_has_an_example_that_fits_its_schema(
    declared: DeclaredRoute,
) -> None:
    """Every request body, answer and refusal of an operation carries an example, and each
    example is valid against the schema beside it."""
    operation = operation_of(declared)
    contents = [("request", operation.get("requestBody", {}).get("content", {}))]
    contents += [(status, r.get("content", {})) for status, r in operation["responses"].items()]
    checked = 0

    for where, content in contents:
        for media, described in content.items():
            assert "example" in described, f"{where} {media} has no example"
            assert schema_errors(described["schema"], described["example"]) == [], where
            checked += 1

    assert checked >= len(REFUSALS)


JSON_BODIES = [
    d
    for d in DECLARED
    if "application/json" in operation_of(d).get("requestBody", {}).get("content", {})
    and issubclass(d.spec.body, StrictBody)
]


@pytest.mark.parametrize("declared", JSON_BODIES, ids=lambda d: d.spec.route_key)
def test_every_documented_request_body_is_one_the_route_accepts(declared: DeclaredRoute) -> None:
    """Given the example body the OpenAPI document shows for a route, when a client sends it
    as it stands, then the route's own body model takes it (a documented example the route
    refuses as invalid-body sends every client reading the document astray)."""
    example = operation_of(declared)["requestBody"]["content"]["application/json"]["example"]

    declared.spec.body.model_validate_json(json.dumps(example))
