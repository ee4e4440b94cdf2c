"""Reading an API Gateway (HTTP API, payload 2.0) event into a route's inputs, and writing
its response. Bad input becomes a clear 4xx problem, never an exception that escapes."""

from __future__ import annotations

import base64
import binascii
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qsl

from pydantic import BaseModel, ValidationError

from tenancy.pages import HtmlPage, Redirect, page_response
from tenancy.problems import Problem
from tenancy.spec import FormBody, NoBody, RawQuery, RouteSpec, SignedPayload, TextDocument

__all__ = [
    "JsonDocument",
    "body",
    "headers",
    "path_params",
    "query",
    "raw_body",
    "response",
    "source_ip",
]


class JsonDocument(str):
    """A response body Postgres already shaped as the route's response model: sent as it
    is, without being parsed and validated again (a test per route validates real ones)."""

    __slots__ = ()


def validation_errors(error: ValidationError) -> list[dict[str, str]]:
    """Where and why, never the submitted value (it may be a secret)."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or "(body)",
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def source_ip(event: Mapping[str, Any]) -> str:
    """API Gateway's own view of the caller; never X-Forwarded-For."""
    return str(((event.get("requestContext") or {}).get("http") or {}).get("sourceIp", ""))


def path_params(spec: RouteSpec, event: Mapping[str, Any]) -> dict[str, uuid.UUID]:
    raw = event.get("pathParameters") or {}
    params: dict[str, uuid.UUID] = {}
    for name in spec.path_params:
        try:
            params[name] = uuid.UUID(str(raw.get(name, "")))
        except ValueError:
            raise Problem(
                400, "invalid-path-parameter", f"{name} must be a UUID", parameter=name
            ) from None
    return params


def _has_nul(value: Any) -> bool:
    """Postgres text cannot hold U+0000: refused at the edge instead of failing in SQL."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(k) or _has_nul(v) for k, v in value.items())
    if isinstance(value, list):
        return any(_has_nul(v) for v in value)
    return False


def _raw_query(spec: RouteSpec, event: Mapping[str, Any]) -> BaseModel:
    """Every pair as sent (API Gateway's ``queryStringParameters`` joins repeats with
    commas, so the raw string is read); judged by the route itself, NUL included."""
    raw = event.get("rawQueryString")
    if isinstance(raw, str):
        pairs = parse_qsl(raw, keep_blank_values=True)
    else:
        pairs = [(str(k), str(v)) for k, v in (event.get("queryStringParameters") or {}).items()]
    return spec.query.model_validate({"pairs": tuple(pairs)})


def query(spec: RouteSpec, event: Mapping[str, Any]) -> BaseModel:
    if issubclass(spec.query, RawQuery):
        return _raw_query(spec, event)
    values = event.get("queryStringParameters") or {}
    if _has_nul(values):
        raise Problem(400, "invalid-query", "the query string must not contain NUL characters")
    try:
        return spec.query.model_validate(values)
    except ValidationError as error:
        raise Problem(
            400, "invalid-query", "the query string is not valid", errors=validation_errors(error)
        ) from None


def raw_body(event: Mapping[str, Any], limit: int) -> bytes:
    data = event.get("body")
    if data is None or data == "":
        return b""
    if event.get("isBase64Encoded"):
        try:
            decoded = base64.b64decode(data, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(400, "malformed-body", "the body is not valid base64") from None
    else:
        decoded = data.encode("utf-8", "surrogatepass")
    if len(decoded) > limit:
        raise Problem(413, "body-too-large", f"the body must not exceed {limit} bytes")
    return decoded


def _refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    names = [name for name, _ in pairs]
    if len(names) != len(set(names)):
        raise Problem(400, "malformed-json", "a JSON object names the same key more than once")
    return dict(pairs)


def _form(spec: RouteSpec, data: bytes, content_type: str) -> BaseModel:
    if content_type != "application/x-www-form-urlencoded":
        raise Problem(
            415, "unsupported-media-type", "send the body as application/x-www-form-urlencoded"
        )
    try:
        fields = parse_qsl(data.decode("utf-8"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        raise Problem(400, "malformed-body", "the form body is not valid") from None
    names = [name for name, _ in fields]
    if len(names) != len(set(names)):
        raise Problem(400, "malformed-body", "a form field appears more than once")
    if _has_nul(dict(fields)):
        raise Problem(400, "malformed-body", "the form body must not contain NUL characters")
    try:
        return spec.body.model_validate(dict(fields))
    except ValidationError as error:
        raise Problem(
            400, "invalid-body", "the body is not valid", errors=validation_errors(error)
        ) from None


def body(spec: RouteSpec, data: bytes, request_headers: Mapping[str, str]) -> BaseModel:
    if issubclass(spec.body, SignedPayload):
        header = spec.body.signature_header
        return spec.body(payload=data, signature=request_headers.get(header))
    if spec.body is NoBody:
        if data.strip():
            raise Problem(400, "unexpected-body", "this route takes no body")
        return NoBody()
    if not data.strip():
        raise Problem(400, "missing-body", "this route needs a JSON body")
    content_type = request_headers.get("content-type", "").split(";")[0].strip().lower()
    if issubclass(spec.body, FormBody):
        return _form(spec, data, content_type)
    if content_type not in ("application/json", "application/merge-patch+json"):
        raise Problem(415, "unsupported-media-type", "send the body as application/json")
    try:
        parsed = json.loads(data, object_pairs_hook=_refuse_duplicate_keys)
    except (ValueError, RecursionError):
        raise Problem(400, "malformed-json", "the body is not valid JSON") from None
    if _has_nul(parsed):
        raise Problem(422, "invalid-body", "text must not contain NUL characters")
    try:
        return spec.body.model_validate_json(data)
    except ValidationError as error:
        raise Problem(
            422, "invalid-body", "the body is not valid", errors=validation_errors(error)
        ) from None


def response(
    spec: RouteSpec, result: BaseModel | JsonDocument | HtmlPage | Redirect | None
) -> dict[str, Any]:
    if isinstance(result, HtmlPage | Redirect):
        return page_response(result)
    if result is None:
        return {"statusCode": 204 if spec.status == 200 else spec.status, "headers": {}}
    if isinstance(result, TextDocument):
        return {
            "statusCode": spec.status,
            "headers": {
                "content-type": "text/plain; charset=utf-8",
                "cache-control": "public, max-age=3600",
            },
            "body": result.render(),
        }
    return {
        "statusCode": spec.status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": result if isinstance(result, str) else result.model_dump_json(),
    }
