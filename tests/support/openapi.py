"""Checking values against the schemas of docs/openapi.json (its refs resolved in the
document's own components), for the OpenAPI tests and the fuzz campaign."""

from __future__ import annotations

from functools import cache
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError

from infra.openapi import build

__all__ = ["document", "schema_errors"]


@cache
def document() -> dict[str, Any]:
    """The OpenAPI document as the declarations make it today (equal to docs/openapi.json,
    which tests/infra/test_openapi.py checks)."""
    return build()


def schema_errors(schema: dict[str, Any], value: Any) -> list[str]:
    """Why ``value`` does not fit ``schema`` (empty when it does)."""
    rooted = {**schema, "components": document()["components"]}
    validator = Draft202012Validator(rooted, format_checker=Draft202012Validator.FORMAT_CHECKER)
    found: list[ValidationError] = list(validator.iter_errors(value))
    return [f"{'/'.join(map(str, e.absolute_path)) or '(root)'}: {e.message}" for e in found]
