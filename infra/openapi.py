"""The OpenAPI 3.1 document, built from the route declarations: `make openapi`."""

from __future__ import annotations

import json
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access, FormBody, NoBody, NoQuery, RawQuery, Redirect, SignedPayload
from tenancy.spec import TextDocument

ROOT = Path(__file__).resolve().parents[1]
REFUSALS = {
    400: "Bad request",
    401: "Missing or invalid access token",
    403: "No access to this venue, or a missing permission",
    404: "Not found in this venue",
    413: "Body too large",
    415: "Body not sent as JSON",
    422: "Body does not fit the route's model",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "code", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "description": "stable, machine-readable"},
        "detail": {"type": "string"},
        "correlation_id": {"type": "string"},
    },
}
OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def _schema(model: type[BaseModel], components: dict[str, Any]) -> dict[str, str]:
    schema = model.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": f"#/components/schemas/{model.__name__}"}


def _operation(declared: DeclaredRoute, components: dict[str, Any]) -> dict[str, Any]:
    spec = declared.spec
    area, module, _ = declared.handler.split(".")
    parameters: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "string", "format": "uuid"},
        }
        for name in spec.path_params
    ]
    if issubclass(spec.query, RawQuery):
        # Judged by the route itself; each documented parameter is an optional string.
        parameters += [
            {"name": name, "in": "query", "required": False, "schema": {"type": "string"}}
            for name in spec.query.documented
        ]
    elif spec.query is not NoQuery:
        query_schema = spec.query.model_json_schema()
        required = set(query_schema.get("required", []))
        parameters += [
            {"name": name, "in": "query", "required": name in required, "schema": field}
            for name, field in query_schema.get("properties", {}).items()
        ]
    operation: dict[str, Any] = {
        "operationId": f"{area}_{module}",
        "summary": spec.summary,
        "tags": [area],
        "parameters": parameters,
    }
    if issubclass(spec.body, SignedPayload):
        # Verified over its bytes by the route: a JSON object and the header that signs it.
        parameters.append(
            {
                "name": spec.body.signature_header,
                "in": "header",
                "required": True,
                "schema": {"type": "string"},
            }
        )
        operation["requestBody"] = {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "object", "description": spec.body.documented_as}
                }
            },
        }
    elif spec.body is not NoBody:
        media = (
            "application/x-www-form-urlencoded"
            if issubclass(spec.body, FormBody)
            else "application/json"
        )
        operation["requestBody"] = {
            "required": True,
            "content": {media: {"schema": _schema(spec.body, components)}},
        }
    success: dict[str, Any] = {"description": "OK"}
    if spec.response is not None and issubclass(spec.response, TextDocument):
        success["content"] = {
            "text/plain": {"schema": {"type": "string", "description": spec.response.__doc__}}
        }
    elif spec.response is not None:
        success["content"] = {"application/json": {"schema": _schema(spec.response, components)}}
    refusal = (
        {"application/json": {"schema": {"$ref": "#/components/schemas/OAuthError"}}}
        if spec.errors == "oauth"
        else {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    )
    successes = {str(spec.status if spec.response is not None else 204): success}
    if spec.errors == "page":
        refusal = {"text/html": {"schema": {"type": "string"}}}
        successes = {"200": {"description": "An HTML page", "content": refusal}}
        if _redirects(declared):
            status = "302" if spec.method == "GET" else "303"
            successes[status] = {
                "description": "A redirect (to the client's redirect URI)",
                "headers": {"Location": {"schema": {"type": "string"}}},
            }
    operation["responses"] = {
        **successes,
        **{
            str(status): {"description": text, "content": refusal}
            for status, text in REFUSALS.items()
        },
    }
    if spec.access is not Access.PUBLIC:
        operation["security"] = [{"bearerAuth": []}]
        if spec.permission:
            operation["x-required-permissions"] = spec.permission.names()
        if spec.access is Access.DEVICE or spec.till:
            # Who may call it besides people: a till's device token, or a till session's.
            operation["x-till"] = "device" if spec.access is Access.DEVICE else "session"
    else:
        operation["security"] = []
    return operation


def _redirects(declared: DeclaredRoute) -> bool:
    """Whether the page route may answer a redirect (its handler says it returns one)."""
    answer = typing.get_type_hints(declared.route.body).get("return")
    return answer is Redirect or Redirect in typing.get_args(answer)


def build(functions_root: Path = ROOT / "functions") -> dict[str, Any]:
    components: dict[str, Any] = {"Problem": PROBLEM_SCHEMA, "OAuthError": OAUTH_ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for declared in discover(functions_root):
        paths.setdefault(declared.spec.path, {})[declared.spec.method.lower()] = _operation(
            declared, components
        )
    return {
        "openapi": "3.1.0",
        "info": {"title": "Venue backend", "version": "0.1.0"},
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}
            },
        },
    }


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
