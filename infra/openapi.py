"""The OpenAPI 3.1 document, built from the route declarations: `make openapi`."""

from __future__ import annotations

import json
import re
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
#: The code each refusal's example shows (docs/decisions.md, "Error codes", has them all).
EXAMPLE_CODES = {
    400: ("invalid-query", "unknown query parameter: surprise"),
    401: ("unauthenticated", "a valid access token is required"),
    403: ("venue-access-denied", "you don't have access to that venue"),
    404: ("not-found", "not found in this venue"),
    413: ("body-too-large", "the body is over 64 KiB"),
    415: ("unsupported-media-type", "send the body as application/json"),
    422: ("invalid-body", "the body does not fit the route's model"),
}
#: Strings an example may take where a schema sets a pattern: the first that fits is used.
PATTERNED = ["centrale", "EUR", "IT01234567890", "1234", "orders.placed", "demo-key-0001"]
EXAMPLE_IDS = "3fa85f64-5717-4562-b3fc-2c963f66afa6"
OAUTH_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error", "error_description"],
    "properties": {"error": {"type": "string"}, "error_description": {"type": "string"}},
}


def example_of(schema: dict[str, Any], components: dict[str, Any]) -> Any:
    """A value that fits ``schema`` (its refs resolved in ``components``), made from the
    schema alone so the document stays a function of the declarations."""
    if "$ref" in schema:
        return example_of(components[schema["$ref"].rsplit("/", 1)[-1]], components)
    for key in ("examples", "default", "const", "enum"):
        if key in schema and schema[key] not in (None, []):
            value = schema[key]
            return value[0] if key in ("examples", "enum") else value
    for key in ("anyOf", "oneOf", "allOf"):
        if key in schema:
            branches = [b for b in schema[key] if b.get("type") != "null"] or schema[key]
            return example_of(branches[0], components)
    kind = schema.get("type", "object")
    if kind == "object":
        return {
            name: example_of(field, components)
            for name, field in schema.get("properties", {}).items()
        }
    if kind == "array":
        item = example_of(schema.get("items", {"type": "string"}), components)
        return [item] * max(1, schema.get("minItems", 1)) if schema.get("items") else []
    if kind in ("integer", "number"):
        low = schema.get("minimum", schema.get("exclusiveMinimum", 0) + 1)
        value = min(max(low, 1), schema.get("maximum", low if low > 1 else 1))
        return int(value) if kind == "integer" else float(value)
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    return _string_example(schema)


def _string_example(schema: dict[str, Any]) -> str:
    formats = {
        "uuid": EXAMPLE_IDS,
        "date-time": "2026-11-25T12:00:00Z",
        "date": "2026-11-25",
        "email": "giulia@io-osteria.example",
        "uri": "https://admin.venue.app/payments",
    }
    if str(schema.get("format")) in formats:
        return formats[str(schema["format"])]
    low, high = int(schema.get("minLength", 0)), int(schema.get("maxLength", 64))
    pattern = str(schema.get("pattern", ""))
    for candidate in PATTERNED if pattern else ["demo"]:
        if low <= len(candidate) <= high and re.search(pattern, candidate):
            return candidate
    return "d" * max(low, 1)


def _problem_example(status: int, declared: DeclaredRoute) -> dict[str, Any]:
    code, detail = EXAMPLE_CODES[status]
    if status == 403 and declared.spec.access is not Access.VENUE:
        code, detail = "insufficient-scope", "this token's scope does not open this route"
    return {
        "type": f"https://errors.venue.app/{code}",
        "title": REFUSALS[status],
        "status": status,
        "code": code,
        "detail": detail,
        "correlation_id": "5f0c6c1e-6d0a-4b5e-9a53-2f6a0f2b8e11",
    }


def _refusal(status: int, declared: DeclaredRoute) -> dict[str, Any]:
    """The content of one refusal, in the route's error shape, with its example."""
    if declared.spec.errors == "oauth":
        example = {"error": "invalid_request", "error_description": REFUSALS[status]}
        return {
            "application/json": {
                "schema": {"$ref": "#/components/schemas/OAuthError"},
                "example": example,
            }
        }
    if declared.spec.errors == "page":
        return {"text/html": {"schema": {"type": "string"}, "example": _PAGE_EXAMPLE}}
    return {
        "application/problem+json": {
            "schema": {"$ref": "#/components/schemas/Problem"},
            "example": _problem_example(status, declared),
        }
    }


_PAGE_EXAMPLE = "<!doctype html><html lang=en><title>Sign in</title>…</html>"


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
                    "schema": {"type": "object", "description": spec.body.documented_as},
                    "example": spec.body.documented_example,
                }
            },
        }
    elif spec.body is not NoBody:
        media = (
            "application/x-www-form-urlencoded"
            if issubclass(spec.body, FormBody)
            else "application/json"
        )
        body_schema = _schema(spec.body, components)
        operation["requestBody"] = {
            "required": True,
            "content": {
                media: {"schema": body_schema, "example": example_of(body_schema, components)}
            },
        }
    success: dict[str, Any] = {"description": "OK"}
    if spec.response is not None and issubclass(spec.response, TextDocument):
        _schema(spec.response, components)
        lines = [
            f"{name}: {example_of(field, components)}"
            for name, field in components[spec.response.__name__].get("properties", {}).items()
        ]
        success["content"] = {
            "text/plain": {
                "schema": {"type": "string", "description": spec.response.__doc__},
                "example": "\n".join(lines) + "\n",
            }
        }
    elif spec.response is not None:
        response_schema = _schema(spec.response, components)
        success["content"] = {
            "application/json": {
                "schema": response_schema,
                "example": example_of(response_schema, components),
            }
        }
    successes = {str(spec.status if spec.response is not None else 204): success}
    if spec.errors == "page":
        page = {"text/html": {"schema": {"type": "string"}, "example": _PAGE_EXAMPLE}}
        successes = {"200": {"description": "An HTML page", "content": page}}
        if _redirects(declared):
            status = "302" if spec.method == "GET" else "303"
            successes[status] = {
                "description": "A redirect (to the client's redirect URI)",
                "headers": {"Location": {"schema": {"type": "string"}}},
            }
    operation["responses"] = {
        **successes,
        **{
            str(status): {"description": text, "content": _refusal(status, declared)}
            for status, text in REFUSALS.items()
        },
    }
    if spec.access is not Access.PUBLIC:
        # Any one of these: a bearer token, or an OAuth2 token with one of the route's scopes.
        operation["security"] = [{"bearerAuth": []}] + [
            {"oauth2": [scope]} for scope in sorted(spec.accepted_scopes)
        ]
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
    declared_routes = discover(functions_root)
    for declared in declared_routes:
        paths.setdefault(declared.spec.path, {})[declared.spec.method.lower()] = _operation(
            declared, components
        )
    scopes = sorted({s for d in declared_routes for s in d.spec.accepted_scopes} | OIDC_SCOPES)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Venue backend",
            "version": "0.1.0",
            "description": INFO,
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "bearerAuth": {
                    "type": "http",
                    "scheme": "bearer",
                    "bearerFormat": "JWT",
                    "description": "An access token of the issuer (`make token` locally).",
                },
                "oauth2": {
                    "type": "oauth2",
                    "description": "The platform's own issuer: people sign in with the"
                    " authorization code flow and PKCE; a till's device uses client"
                    " credentials, then a staff PIN opens a till session (scope"
                    " till-session).",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": "/oauth/authorize",
                            "tokenUrl": "/oauth/token",
                            "refreshUrl": "/oauth/token",
                            "scopes": {scope: SCOPE_MEANINGS.get(scope, scope) for scope in scopes},
                        },
                        "clientCredentials": {
                            "tokenUrl": "/oauth/token",
                            "scopes": {"till": SCOPE_MEANINGS["till"]},
                        },
                    },
                },
            },
        },
    }


OIDC_SCOPES = {"openid", "email", "profile"}
SCOPE_MEANINGS = {
    "openid": "an ID token (OpenID Connect)",
    "email": "the email address in the ID token and UserInfo",
    "profile": "the display name in the ID token and UserInfo",
    "account": "the person's own account routes",
    "venue": "the venue routes, at the venues the person is attached to",
    "till": "a till's device: the PIN route only",
    "till-session": "a till session: the routes open to tills, at its own venue",
    "mfa-enrolment": "a sign-in that must set up its second factor first: enrolment only",
}
INFO = (
    "Generated from the route declarations (`make openapi`). Every refusal is"
    " `application/problem+json` with a stable `code` (OAuth endpoints answer RFC 6749"
    " errors, sign-in pages an HTML page). Locally, `make dev` serves this document at"
    " `/openapi.json` and an interactive page at `/docs`."
)


def render() -> str:
    return json.dumps(build(), indent=2, sort_keys=True) + "\n"


if __name__ == "__main__":
    print(render(), end="")
