"""The request gate: one route declaration in, one Lambda handler out.

Before any handler body runs, the gate establishes, in this order:

1. who is asking: the verified access token (never a body field, query string or header);
2. what they touch: the venue from the path only, and their attachment to it, read from
   Postgres in the same round trip that binds the venue for row-level security;
3. whether it matches: no attachment (or no such venue) is the same 403;
4. whether they may: the permission flags of that attachment.

Each request is one transaction: a refusal or an error writes nothing.
"""

from __future__ import annotations

import base64
import binascii
import enum
import re
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Generic, Literal, TypeVar
from urllib.parse import parse_qsl

import psycopg
from pydantic import BaseModel, ConfigDict, ValidationError

from tenancy import audit
from tenancy.db import ending_transaction
from tenancy.permissions import NO_PERMISSION, Permission
from tenancy.problems import (
    Problem,
    oauth_error_response,
    problem_response,
    unauthenticated,
    venue_access_denied,
)
from tenancy.runtime import Runtime, current_runtime
from tenancy.tokens import Identity, bearer_token

__all__ = [
    "Access",
    "FormBody",
    "NoBody",
    "NoQuery",
    "Request",
    "Route",
    "RouteSpec",
    "StrictBody",
    "UserRequest",
    "VenueAccess",
    "VenueRequest",
    "public_route",
    "user_route",
    "venue_route",
]

QueryT = TypeVar("QueryT", bound=BaseModel)
BodyT = TypeVar("BodyT", bound=BaseModel)

_PATH_PARAM = re.compile(r"\{([a-z_]+)\}")


class StrictBody(BaseModel):
    """Base of every request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoBody(StrictBody):
    """The body of a route that takes none."""


class FormBody(BaseModel):
    """Base of bodies sent as ``application/x-www-form-urlencoded`` (OAuth2's token and
    revocation endpoints). Values arrive as strings; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoQuery(BaseModel):
    """The query of a route that takes none: any parameter is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class Access(enum.Enum):
    PUBLIC = "public"
    USER = "user"
    VENUE = "venue"


@dataclass(frozen=True)
class RouteSpec:
    """Everything declared about a route; the handler, template checks, OpenAPI and the
    cross-tenant matrix are all derived from it."""

    method: str
    path: str
    access: Access
    summary: str
    permission: Permission = NO_PERMISSION
    query: type[BaseModel] = NoQuery
    body: type[BaseModel] = NoBody
    response: type[BaseModel] | None = None
    status: int = 200
    #: "oauth" answers refusals in RFC 6749's error shape instead of problem+json.
    errors: Literal["problem", "oauth"] = "problem"

    @property
    def required_scope(self) -> str | None:
        """The access-token scope this route needs: venue data needs ``venue``; the
        account routes need ``account`` (all a not-yet-MFA-enrolled admin is given)."""
        return {Access.VENUE: "venue", Access.USER: "account"}.get(self.access)

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"


@dataclass(frozen=True)
class VenueAccess:
    """What the gate established about the caller at this venue."""

    venue_id: uuid.UUID
    role: str
    permissions: Permission
    #: True when the caller is a platform admin without an attachment here (audited).
    as_platform_admin: bool = False


@dataclass
class Request(Generic[QueryT, BodyT]):
    query: QueryT
    body: BodyT
    path: Mapping[str, uuid.UUID]
    source_ip: str
    correlation_id: str
    db: psycopg.Connection


@dataclass
class UserRequest(Request[QueryT, BodyT]):
    identity: Identity = field(kw_only=True)
    is_platform_admin: bool = field(kw_only=True)

    @property
    def user_id(self) -> uuid.UUID:
        return self.identity.user_id


@dataclass
class VenueRequest(UserRequest[QueryT, BodyT]):
    venue: VenueAccess = field(kw_only=True)

    @property
    def venue_id(self) -> uuid.UUID:
        return self.venue.venue_id


# --- the database side of the gate -----------------------------------------------------

_BIND = "SELECT set_config('app.user_id', %s, true), set_config('app.venue_id', %s, true)"

_VENUE_GATE = """
SELECT u.is_platform_admin,
       u.disabled_at IS NOT NULL AS disabled,
       a.role,
       a.permissions,
       EXISTS (SELECT 1 FROM venues v WHERE v.id = %(venue)s) AS venue_exists
FROM users u
LEFT JOIN venue_attachments a ON a.venue_id = %(venue)s AND a.user_id = u.id
WHERE u.id = %(user)s
"""

_USER_GATE = """
SELECT u.is_platform_admin, u.disabled_at IS NOT NULL AS disabled
FROM users u WHERE u.id = %(user)s
"""


def _bind_and_read(
    conn: psycopg.Connection, user_id: uuid.UUID, venue_id: uuid.UUID | None, sql: str
) -> tuple[Any, ...] | None:
    """Open the request's transaction, bind the caller (and venue) and read their standing:
    BEGIN, the binding and the read travel together in one round trip (pipeline mode)."""
    with conn.pipeline():
        conn.execute("BEGIN")
        conn.execute(_BIND, (str(user_id), "" if venue_id is None else str(venue_id)))
        cursor = conn.execute(sql, {"user": user_id, "venue": venue_id})
    return cursor.fetchone()


def _check_standing(row: tuple[Any, ...] | None) -> bool:
    """The caller's platform-admin flag; refuses unknown and disabled accounts."""
    if row is None:
        raise unauthenticated("the access token's subject is not a known account")
    is_platform_admin, disabled = bool(row[0]), bool(row[1])
    if disabled:
        raise Problem(401, "account-disabled", "this account is disabled")
    return is_platform_admin


def _venue_access(
    conn: psycopg.Connection, identity: Identity, venue_id: uuid.UUID
) -> tuple[VenueAccess, bool]:
    row = _bind_and_read(conn, identity.user_id, venue_id, _VENUE_GATE)
    is_platform_admin = _check_standing(row)
    assert row is not None
    _, _, role, permissions, venue_exists = row
    if role is not None:
        return VenueAccess(venue_id, role, Permission(permissions)), is_platform_admin
    if is_platform_admin and venue_exists:
        audit.record(
            conn,
            action="platform_admin.venue_access",
            venue_id=venue_id,
            actor_user_id=identity.user_id,
            target_type="venue",
            target_id=venue_id,
            critical=True,
        )
        return (
            VenueAccess(venue_id, "platform_admin", Permission.all(), as_platform_admin=True),
            True,
        )
    raise venue_access_denied()


# --- parsing the API Gateway v2 event ---------------------------------------------------


def _validation_errors(error: ValidationError) -> list[dict[str, str]]:
    """Where and why, never the submitted value (it may be a secret)."""
    return [
        {
            "field": ".".join(str(part) for part in item["loc"]) or "(body)",
            "message": item["msg"],
            "type": item["type"],
        }
        for item in error.errors(include_url=False, include_input=False, include_context=False)
    ]


def _path_params(spec: RouteSpec, event: Mapping[str, Any]) -> dict[str, uuid.UUID]:
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


def _query(spec: RouteSpec, event: Mapping[str, Any]) -> BaseModel:
    try:
        return spec.query.model_validate(event.get("queryStringParameters") or {})
    except ValidationError as error:
        raise Problem(
            400, "invalid-query", "the query string is not valid", errors=_validation_errors(error)
        ) from None


def _raw_body(event: Mapping[str, Any], limit: int) -> bytes:
    body = event.get("body")
    if body is None or body == "":
        return b""
    if event.get("isBase64Encoded"):
        try:
            data = base64.b64decode(body, validate=True)
        except (binascii.Error, ValueError):
            raise Problem(400, "malformed-body", "the body is not valid base64") from None
    else:
        data = body.encode("utf-8", "surrogatepass")
    if len(data) > limit:
        raise Problem(413, "body-too-large", f"the body must not exceed {limit} bytes")
    return data


def _body(spec: RouteSpec, data: bytes, headers: Mapping[str, str]) -> BaseModel:
    if spec.body is NoBody:
        if data.strip():
            raise Problem(400, "unexpected-body", "this route takes no body")
        return NoBody()
    if not data.strip():
        raise Problem(400, "missing-body", "this route needs a JSON body")
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if issubclass(spec.body, FormBody):
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
        try:
            return spec.body.model_validate(dict(fields))
        except ValidationError as error:
            raise Problem(
                400, "invalid-body", "the body is not valid", errors=_validation_errors(error)
            ) from None
    if content_type not in ("application/json", "application/merge-patch+json"):
        raise Problem(415, "unsupported-media-type", "send the body as application/json")
    try:
        return spec.body.model_validate_json(data)
    except ValidationError as error:
        if any(item["type"] == "json_invalid" for item in error.errors()):
            raise Problem(400, "malformed-json", "the body is not valid JSON") from None
        raise Problem(
            422, "invalid-body", "the body is not valid", errors=_validation_errors(error)
        ) from None


def _headers(event: Mapping[str, Any]) -> dict[str, str]:
    return {str(k).lower(): str(v) for k, v in (event.get("headers") or {}).items()}


def _response(spec: RouteSpec, result: BaseModel | None) -> dict[str, Any]:
    if result is None:
        return {"statusCode": 204 if spec.status == 200 else spec.status, "headers": {}}
    return {
        "statusCode": spec.status,
        "headers": {"content-type": "application/json", "cache-control": "no-store"},
        "body": result.model_dump_json(),
    }


# --- the handler ------------------------------------------------------------------------

HandlerBody = Callable[[Any], BaseModel | None]


class Route:
    """A declared route bound to its handler body; calling it is the Lambda entry point."""

    def __init__(self, spec: RouteSpec, body: HandlerBody) -> None:
        self.spec = spec
        self.body = body
        self.__doc__ = body.__doc__

    def __call__(self, event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
        return self.invoke(event, current_runtime())

    def invoke(self, event: Mapping[str, Any], runtime: Runtime) -> dict[str, Any]:
        context = event.get("requestContext") or {}
        correlation_id = str(context.get("requestId") or uuid.uuid4())
        # Filled in as the gate learns who and where, so every line carries them.
        log_keys: dict[str, str] = {
            "correlation_id": correlation_id,
            "route": self.spec.route_key,
        }
        try:
            response = self._invoke(event, runtime, correlation_id, log_keys)
        except Problem as problem:
            runtime.log.bind(**log_keys).info("refused", status=problem.status, code=problem.code)
            if self.spec.errors == "oauth":
                return oauth_error_response(problem)
            return problem_response(problem)
        except Exception as error:
            runtime.log.bind(**log_keys).exception("unexpected error")
            runtime.report(error)
            return problem_response(
                Problem(
                    500,
                    "internal-error",
                    "something went wrong on our side; quote the correlation id when reporting it",
                ),
                correlation_id=correlation_id,
            )
        runtime.log.bind(**log_keys).info("served", status=response["statusCode"])
        return response

    def _invoke(
        self,
        event: Mapping[str, Any],
        runtime: Runtime,
        correlation_id: str,
        log_keys: dict[str, str],
    ) -> dict[str, Any]:
        spec = self.spec
        headers = _headers(event)
        data = _raw_body(event, runtime.max_body_bytes)
        source_ip = str(((event.get("requestContext") or {}).get("http") or {}).get("sourceIp", ""))

        if spec.access is Access.PUBLIC:
            path = _path_params(spec, event)
            query, body = _query(spec, event), _body(spec, data, headers)
            with runtime.connections.connection() as conn, ending_transaction(conn):
                conn.execute("BEGIN")
                outcome = self._run(Request(query, body, path, source_ip, correlation_id, conn))
            return _settle(outcome)

        identity = runtime.verifier.verify(bearer_token(headers))
        log_keys["user_id"] = str(identity.user_id)
        if spec.required_scope not in identity.scopes:
            raise Problem(
                403,
                "insufficient-scope",
                "this token may not be used here"
                + (
                    "; enrol a second factor first (POST /me/mfa/totp)"
                    if "mfa-enrolment" in identity.scopes
                    else ""
                ),
                required_scope=spec.required_scope,
            )
        path = _path_params(spec, event)
        with runtime.connections.connection() as conn, ending_transaction(conn):
            if spec.access is Access.VENUE:
                log_keys["venue_id"] = str(path["venue_id"])
                venue, is_platform_admin = _venue_access(conn, identity, path["venue_id"])
                missing = spec.permission & ~venue.permissions
                if missing:
                    raise Problem(
                        403,
                        "permission-denied",
                        f"this needs the {', '.join(Permission(missing).names())} permission",
                        missing_permissions=Permission(missing).names(),
                    )
            else:
                venue = None
                is_platform_admin = _check_standing(
                    _bind_and_read(conn, identity.user_id, None, _USER_GATE)
                )
            common: dict[str, Any] = {
                "query": _query(spec, event),
                "body": _body(spec, data, headers),
                "path": path,
                "source_ip": source_ip,
                "correlation_id": correlation_id,
                "db": conn,
                "identity": identity,
                "is_platform_admin": is_platform_admin,
            }
            request = (
                UserRequest(**common) if venue is None else VenueRequest(**common, venue=venue)
            )
            outcome = self._run(request)
        return _settle(outcome)

    def _run(self, request: Request[Any, Any]) -> dict[str, Any] | Problem:
        """The handler's response, or a refusal whose writes are to be committed."""
        try:
            return _response(self.spec, self.body(request))
        except Problem as problem:
            if problem.keep_writes:
                return problem
            raise


def _settle(outcome: dict[str, Any] | Problem) -> dict[str, Any]:
    """Called once the transaction has committed."""
    if isinstance(outcome, Problem):
        raise outcome
    return outcome


def _declare(
    access: Access,
    method: str,
    path: str,
    *,
    summary: str,
    permission: Permission = NO_PERMISSION,
    query: type[BaseModel] = NoQuery,
    body: type[BaseModel] = NoBody,
    response: type[BaseModel] | None = None,
    status: int = 200,
    errors: Literal["problem", "oauth"] = "problem",
) -> Callable[[HandlerBody], Route]:
    spec = RouteSpec(
        method=method.upper(),
        path=path,
        access=access,
        summary=summary,
        permission=permission,
        query=query,
        body=body,
        response=response,
        status=status,
        errors=errors,
    )
    if access is Access.VENUE and not path.startswith("/venues/{venue_id}"):
        raise ValueError(f"venue route {path} must start with /venues/{{venue_id}}")
    if access is not Access.VENUE and "venue_id" in spec.path_params:
        raise ValueError(f"{path} names a venue: declare it with venue_route")

    def decorate(fn: HandlerBody) -> Route:
        return Route(spec, fn)

    return decorate


def venue_route(method: str, path: str, **kwargs: Any) -> Callable[[HandlerBody], Route]:
    """A route under ``/venues/{venue_id}``: attachment and permission flags are checked."""
    return _declare(Access.VENUE, method, path, **kwargs)


def user_route(method: str, path: str, **kwargs: Any) -> Callable[[HandlerBody], Route]:
    """A route for any signed-in, enabled account, bound to no venue."""
    return _declare(Access.USER, method, path, **kwargs)


def public_route(method: str, path: str, **kwargs: Any) -> Callable[[HandlerBody], Route]:
    """A route anyone may call (health, the issuer's public documents)."""
    return _declare(Access.PUBLIC, method, path, **kwargs)
