"""The request gate: one route declaration in, one Lambda handler out.

Before any handler result is used, the gate establishes, in this order:

1. who is asking: the verified access token (never a body field, query string or header),
   and that its sign-in session is still live;
2. what they touch: the venue from the path only, and their attachment to it, read from
   Postgres in the same round trip that binds the venue for row-level security;
3. whether it matches: no attachment (or no such venue) is the same 403;
4. whether they may: the permission flags of that attachment, and a second factor where
   the venue or the platform-admin override requires one.

A till is a caller too. Its device token opens only the routes declared with
``device_route`` (the PIN route), at venues the device serves. A till session's token (a
staff PIN entered on the till) opens the venue routes declared ``till=True``, at the till
session's own venue only, with its staff member's flags; at any other venue it is refused
with ``till-locked``.

Each request is one transaction, sent in pipeline mode: the signed bindings, the gate's
read and the handler's statements travel together; the gate decides when the first result
is read. A read route is one round trip, one implicit transaction ended by its Sync; a
write is two, in BEGIN ... COMMIT (docs/architecture.md).
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Generic, Literal, Required, TypedDict, Unpack

import psycopg
from psycopg.types.json import Jsonb
from pydantic import BaseModel
from typing_extensions import TypeVar

from tenancy import audit, events
from tenancy.bindings import Binder
from tenancy.db import GateConnection
from tenancy.events import JsonDocument
from tenancy.pages import HtmlPage, Redirect, request_cookies
from tenancy.permissions import NO_PERMISSION, Permission
from tenancy.problems import (
    Problem,
    oauth_error_response,
    problem_response,
    unauthenticated,
    venue_access_denied,
)
from tenancy.runtime import C, Runtime, current_runtime
from tenancy.spec import (
    Access,
    DbRole,
    FormBody,
    Need,
    NoBody,
    NoQuery,
    RawQuery,
    RouteSpec,
    SignedPayload,
    StrictBody,
)
from tenancy.tokens import Identity, TillSession, bearer_token

__all__ = [
    "Access",
    "DbRole",
    "DeviceRequest",
    "FormBody",
    "HtmlPage",
    "JsonDocument",
    "Need",
    "NoBody",
    "NoQuery",
    "RawQuery",
    "Redirect",
    "Request",
    "Route",
    "RouteSpec",
    "SignedPayload",
    "StrictBody",
    "UserRequest",
    "VenueAccess",
    "VenueRequest",
    "device_route",
    "public_route",
    "user_route",
    "venue_route",
]

# With defaults, so a route that declares no query (or no body) types its request as
# taking NoQuery (NoBody), and mypy checks every declaration against its handler.
QueryT = TypeVar("QueryT", bound=BaseModel, default=NoQuery)
BodyT = TypeVar("BodyT", bound=BaseModel, default=NoBody)


@dataclass(frozen=True)
class VenueAccess:
    """What the gate established about the caller at this venue."""

    venue_id: uuid.UUID
    role: str
    permissions: Permission
    #: True when the caller is a platform admin without an attachment here (audited).
    as_platform_admin: bool = False
    #: A till session: the staff member signed in on the till, and their account, if any.
    staff_member_id: uuid.UUID | None = None
    staff_user_id: uuid.UUID | None = None


@dataclass
class Request(Generic[QueryT, BodyT]):
    query: QueryT
    body: BodyT
    path: Mapping[str, uuid.UUID]
    source_ip: str
    correlation_id: str
    db: psycopg.Connection[Any]
    runtime: Runtime = field(kw_only=True, repr=False)
    #: The request's cookies by name (a page route's own; API routes have no use for them).
    cookies: Mapping[str, str] = field(default_factory=dict, kw_only=True, repr=False)

    def use(self, kind: type[C]) -> C:
        """The function's ``kind`` collaborator (the issuer, ...), built on first use."""
        return self.runtime.collaborator(kind)


@dataclass
class UserRequest(Request[QueryT, BodyT]):
    identity: Identity = field(kw_only=True)
    gate: _Gate = field(kw_only=True, repr=False)

    @property
    def user_id(self) -> uuid.UUID:
        """The caller's account. A till session has none: on a route declared ``till=True``
        use ``actor_user_id`` and ``till_session``."""
        if self.identity.user_id is None:
            raise RuntimeError("a till session acts for a staff member, not an account")
        return self.identity.user_id

    @property
    def is_platform_admin(self) -> bool:
        """Known once the gate has decided (reading it makes the gate decide now)."""
        return self.gate.settle().is_platform_admin

    def act_at_created_venue(self, venue_id: uuid.UUID) -> None:
        """Bind ``venue_id``, a venue this request has just created, for the rest of its
        transaction, so the new venue's settings and first owner are written under the
        ordinary venue policies (platform onboarding). Only for a platform admin; the
        database still decides (a platform admin with a second factor, at a venue that
        exists), and the caller writes the critical audit event."""
        if not self.is_platform_admin:
            raise Problem(403, "platform-admin-only", "this is for platform admins only")
        identity = self.identity
        assert identity.session_id is not None
        bindings = self.gate.binding_key.bind(
            user_id=self.user_id,
            session_id=identity.session_id,
            venue_id=venue_id,
            mfa=bool(identity.amr & SECOND_FACTORS),
        )
        self.db.execute(bindings.SQL, bindings.as_params())


@dataclass
class VenueRequest(UserRequest[QueryT, BodyT]):
    @property
    def venue_id(self) -> uuid.UUID:
        return self.path["venue_id"]

    @property
    def venue(self) -> VenueAccess:
        access = self.gate.settle().venue
        assert access is not None
        return access

    @property
    def till_session(self) -> TillSession | None:
        """The till session calling (a route declared ``till=True``), or None for a person."""
        return self.identity.till_session

    @property
    def actor_user_id(self) -> uuid.UUID | None:
        """Whose account an audit event names: the caller's, or the account of the staff
        member signed in on the till (None when they have none)."""
        if self.identity.user_id is not None:
            return self.identity.user_id
        return self.venue.staff_user_id


@dataclass
class DeviceRequest(Request[QueryT, BodyT]):
    """A till calling with its device token (``device_route``): the device and the venue
    of the path, which the gate has checked the device serves."""

    identity: Identity = field(kw_only=True)
    gate: _Gate = field(kw_only=True, repr=False)

    @property
    def client_id(self) -> str:
        return self.identity.client_id

    @property
    def venue_id(self) -> uuid.UUID:
        return self.path["venue_id"]


# --- the database side of the gate -----------------------------------------------------

# The caller's standing, with the signed bindings (no venue), in one call of a PL/pgSQL
# function whose plan Postgres keeps for the session (0020).
_USER_GATE = """
SELECT * FROM app.user_gate(%(user)s, %(session)s, %(mfa)s, %(binding)s)
"""

# The same at a venue, with the attachment and `allowed`, the binding verifier's own answer
# (what row-level security applies to every statement); the platform-admin override's
# critical audit event is written in the same call, only when the override really applies.
# Both functions replace two statements that were planned anew on every request
# (infra/migrations/0020_gate_read_function.sql).
_VENUE_GATE = """
SELECT * FROM app.venue_gate(%(venue)s, %(user)s, %(session)s, %(mfa)s, %(binding)s,
                             %(event)s, %(details)s)
"""

# A till session at its venue: its standing as the verifier sees it (live: the session,
# device and account checks; allowed: the venue's MFA rule too), its staff member and their
# flags: the role's, narrowed to the account's attachment when they have one. The session's
# activity is noted here (at most once a minute), which keeps it from going idle.
_TILL_GATE = """
WITH noted AS (
    UPDATE public.till_sessions SET last_seen_at = now()
    WHERE id = %(session)s AND last_seen_at < now() - interval '60 seconds'
    RETURNING id
)
SELECT app.binding_allows(NULL) AS live,
       app.binding_allows(0) AS allowed,
       m.id,
       m.role,
       m.user_id,
       coalesce(r.permissions, 0)
           & CASE WHEN m.user_id IS NULL THEN ~0::bigint ELSE coalesce(a.permissions, 0) END
FROM (SELECT 1) AS one
LEFT JOIN public.till_sessions t ON t.id = %(session)s AND t.venue_id = %(venue)s
LEFT JOIN public.staff_members m ON m.id = t.staff_member_id AND m.venue_id = t.venue_id
LEFT JOIN public.role_permissions r ON r.role = m.role
LEFT JOIN public.venue_attachments a ON a.venue_id = t.venue_id AND a.user_id = m.user_id
"""

# A till's device: registered, enabled, and serving the venue of the path.
_DEVICE_GATE = """
SELECT c.kind = 'till' AND c.disabled_at IS NULL,
       EXISTS (SELECT 1 FROM public.till_device_venues d
               WHERE d.client_id = c.client_id AND d.venue_id = %(venue)s)
FROM public.oauth_clients c
WHERE c.client_id = %(client)s
"""

#: RFC 8176 methods that count as a second factor.
SECOND_FACTORS = frozenset({"otp", "mfa"})


@dataclass(frozen=True)
class Decision:
    is_platform_admin: bool
    venue: VenueAccess | None


def mfa_required(detail: str) -> Problem:
    return Problem(403, "mfa-required", detail)


def till_locked() -> Problem:
    """A till session's token at another venue than its own."""
    return Problem(
        403,
        "till-locked",
        "this till session is for another venue: lock the till and enter the PIN of a member"
        " of staff of this venue",
    )


def session_ended(detail: str = "this sign-in has ended; sign in again") -> Problem:
    return Problem(401, "session-ended", detail, headers={"www-authenticate": "Bearer"})


def _check_flags(spec: RouteSpec, access: VenueAccess) -> None:
    missing = spec.permission & ~access.permissions
    if missing:
        raise Problem(
            403,
            "permission-denied",
            f"this needs the {', '.join(Permission(missing).names())} permission",
            missing_permissions=Permission(missing).names(),
        )


class _Gate:
    """The gate's statements on a request's connection, and its decision."""

    def __init__(
        self,
        conn: GateConnection,
        spec: RouteSpec,
        identity: Identity,
        venue_id: uuid.UUID | None,
        correlation_id: str,
        binding_key: Binder,
    ) -> None:
        self.conn = conn
        self.spec = spec
        self.identity = identity
        self.venue_id = venue_id
        self.correlation_id = correlation_id
        self.binding_key = binding_key
        self._cursor: psycopg.Cursor[Any] | None = None
        self._decision: Decision | Problem | None = None
        self._override_event = uuid.uuid4()

    def send(self) -> None:
        """Queue BEGIN (a write's), the signed bindings and the gate's read; nothing is
        awaited."""
        identity = self.identity
        assert identity.session_id is not None
        mfa = bool(identity.amr & SECOND_FACTORS)
        bindings = self.binding_key.bind(
            user_id=identity.user_id,
            session_id=identity.session_id,
            venue_id=self.venue_id,
            mfa=mfa,
        )
        conn = self.conn
        conn.begin(read=self.spec.reads_only)
        signed = bindings.as_named()
        if self.venue_id is None:
            del signed["venue"]  # bound as '' by app.user_gate
            self._cursor = conn.execute(_USER_GATE, signed)
            return
        override = {
            "route": self.spec.route_key,
            "method": self.spec.method,
            "access": "read" if self.spec.reads_only else "write",
            "correlation_id": self.correlation_id,
        }
        self._cursor = conn.execute(
            _VENUE_GATE,
            {**signed, "event": self._override_event, "details": Jsonb(override)},
        )

    def settle(self) -> Decision:
        """The decision, read from the gate's row (a refusal raises)."""
        if self._decision is None:
            self.conn.drop_hook()
            assert self._cursor is not None
            try:
                self._decision = self._decide(self._cursor.fetchone())
            except Problem as refusal:
                self._decision = refusal
        if isinstance(self._decision, Problem):
            raise self._decision
        return self._decision

    def refusal_after_error(self) -> Problem | None:
        """After a statement failed: the gate's refusal, if it refuses (its row arrived
        before any later statement's error)."""
        if self._cursor is None and self._decision is None:
            return None  # the gate's own statements never left (the connection was lost)
        try:
            self.settle()
        except Problem as refusal:
            return refusal
        except psycopg.Error:
            return None
        return None

    def _decide(self, row: tuple[Any, ...] | None) -> Decision:
        if row is None:
            raise unauthenticated("the access token's subject is not a known account")
        is_platform_admin, disabled, session_live = bool(row[0]), bool(row[1]), bool(row[2])
        if disabled:
            raise Problem(401, "account-disabled", "this account is disabled")
        if not session_live:
            raise session_ended()
        if self.venue_id is None:
            return Decision(is_platform_admin, None)
        role, permissions, venue_exists, allowed = row[3], row[4], bool(row[5]), bool(row[6])
        if role is not None:
            if not allowed:
                raise mfa_required(
                    "this venue requires a second factor for your role: sign in with it"
                )
            access = VenueAccess(self.venue_id, role, Permission(permissions))
        elif is_platform_admin and venue_exists:
            if not allowed:
                raise mfa_required("platform admins reach venues only from a sign-in with MFA")
            access = VenueAccess(
                self.venue_id, "platform_admin", Permission.all(), as_platform_admin=True
            )
            audit.note(self.conn, audit.OutboxEvent(self._override_event, self.venue_id))
        else:
            raise venue_access_denied()
        _check_flags(self.spec, access)
        return Decision(is_platform_admin, access)

    def on_first_result(self) -> None:
        """A read route's transaction ends with its first result: the Sync goes with
        everything queued (and commits it), so the whole read is one round trip."""
        if self.spec.reads_only:
            self.conn.end_read()
        self.settle()

    def finish(self) -> None:
        # A handler that read nothing: the gate's row is the first result (so a read
        # route's Sync still travels with it, in one round trip).
        self.conn.results_needed()
        self.settle()
        if self.conn.transaction_ended:
            return
        if self.spec.reads_only:
            self.conn.end_read()
        else:
            self.conn.execute("COMMIT")
            self.conn.transaction_ended = True


class _TillGate(_Gate):
    """A till session at its own venue (the token's venue was compared with the path's
    before any statement): bound with no user and the till session as its session."""

    def send(self) -> None:
        session_id = self.identity.session_id
        assert session_id is not None
        assert self.venue_id is not None
        bindings = self.binding_key.bind(
            user_id=None, session_id=session_id, venue_id=self.venue_id, mfa=False
        )
        self.conn.begin(read=self.spec.reads_only)
        self.conn.execute(bindings.SQL, bindings.as_params())
        self._cursor = self.conn.execute(
            _TILL_GATE, {"session": session_id, "venue": self.venue_id}
        )

    def _decide(self, row: tuple[Any, ...] | None) -> Decision:
        assert row is not None
        assert self.venue_id is not None
        live, allowed, staff_member_id, role, staff_user_id, permissions = row
        if not live:
            raise session_ended(
                "this till session has ended (locked, idle or past its end): enter a PIN"
            )
        if not allowed:
            raise mfa_required(
                "this venue requires a second factor for this role, which a PIN is not:"
                " use the admin app"
            )
        access = VenueAccess(
            self.venue_id,
            role,
            Permission(permissions),
            staff_member_id=staff_member_id,
            staff_user_id=staff_user_id,
        )
        _check_flags(self.spec, access)
        return Decision(False, access)


class _DeviceGate(_Gate):
    """A till's device token: the device must be registered, enabled and serve the venue of
    the path. Nothing is bound: the device is not a person and opens no venue data."""

    def send(self) -> None:
        self.conn.begin(read=self.spec.reads_only)
        self._cursor = self.conn.execute(
            _DEVICE_GATE, {"client": self.identity.client_id, "venue": self.venue_id}
        )

    def _decide(self, row: tuple[Any, ...] | None) -> Decision:
        assert self.venue_id is not None
        if row is None or not row[0]:
            raise unauthenticated("this till is not registered, or it was disabled")
        if not row[1]:
            raise venue_access_denied()
        return Decision(False, VenueAccess(self.venue_id, "till", NO_PERMISSION))


# --- the handler ------------------------------------------------------------------------

HandlerBody = Callable[[Any], BaseModel | JsonDocument | HtmlPage | Redirect | None]


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
            runtime.metrics.refused(problem.code, **log_keys)
            return self._refusal(problem, runtime, log_keys)
        except Exception as error:
            if database_unreachable(error):
                # The database went away (stopped, failing over, our backend terminated):
                # nothing was committed, and the next request connects again.
                runtime.log.bind(**log_keys).warning(
                    "database unavailable", error=type(error).__name__
                )
                runtime.metrics.refused("database-unavailable", **log_keys)
                return self._refusal(database_unavailable(), runtime, log_keys)
            runtime.log.bind(**log_keys).exception("unexpected error")
            runtime.report(error)
            failure = Problem(
                500,
                "internal-error",
                "something went wrong on our side; quote the correlation id when reporting it",
            )
            if self.spec.errors == "page":
                failure.extra["correlation_id"] = correlation_id
                return self._refusal(failure, runtime, log_keys)
            return problem_response(failure, correlation_id=correlation_id)
        runtime.log.bind(**log_keys).info("served", status=response["statusCode"])
        return response

    def _refusal(
        self, problem: Problem, runtime: Runtime, log_keys: Mapping[str, str]
    ) -> dict[str, Any]:
        """``problem`` in the route's own shape: problem+json, OAuth's error JSON, or the
        route's error page (problem+json again should the page itself fail)."""
        if self.spec.errors == "oauth":
            return oauth_error_response(problem)
        if self.spec.errors == "page" and self.spec.error_page is not None:
            try:
                page = self.spec.error_page(problem)
            except Exception as error:
                runtime.log.bind(**log_keys).exception("the error page failed")
                runtime.report(error)
            else:
                headers = {**problem.headers, **page.headers}
                return events.response(self.spec, replace(page, headers=headers))
        return problem_response(problem, correlation_id=problem.extra.get("correlation_id"))

    def _invoke(
        self,
        event: Mapping[str, Any],
        runtime: Runtime,
        correlation_id: str,
        log_keys: dict[str, str],
    ) -> dict[str, Any]:
        spec = self.spec
        headers = events.headers(event)
        data = events.raw_body(event, runtime.max_body_bytes)
        source_ip = events.source_ip(event)

        if spec.access is Access.PUBLIC:
            path = events.path_params(spec, event)
            query, body = events.query(spec, event), events.body(spec, data, headers)
            return self._public(
                runtime,
                Request(
                    query,
                    body,
                    path,
                    source_ip,
                    correlation_id,
                    _NO_DATABASE,
                    runtime=runtime,
                    cookies=request_cookies(event),
                ),
            )

        identity = runtime.verifier.verify(bearer_token(headers))
        till = identity.till_session
        if identity.user_id is not None:
            log_keys["user_id"] = str(identity.user_id)
        else:
            log_keys["client_id"] = identity.client_id
        if till is not None:
            log_keys["staff_member_id"] = str(till.staff_member_id)
            # A till session works at its own venue only: anywhere else it is told to lock.
            if "venue_id" in spec.path_params and not _names_venue(event, till.venue_id):
                raise till_locked()
        if not spec.accepted_scopes & identity.scopes:
            raise Problem(
                403,
                "insufficient-scope",
                "this token may not be used here"
                + (
                    "; enrol a second factor first (POST /me/mfa/totp)"
                    if "mfa-enrolment" in identity.scopes
                    else ""
                ),
                required_scope=" or ".join(sorted(spec.accepted_scopes)),
            )
        if identity.session_id is None and spec.access is not Access.DEVICE:
            raise unauthenticated("the access token names no sign-in session")
        path = events.path_params(spec, event)
        venue_id = path.get("venue_id") if spec.access in (Access.VENUE, Access.DEVICE) else None
        if venue_id is not None:
            log_keys["venue_id"] = str(venue_id)
        # Judged only once the gate has let the caller in: a caller who may not touch a
        # venue learns nothing from how their input would have been judged.
        inputs: tuple[BaseModel, BaseModel] | Problem
        try:
            inputs = (events.query(spec, event), events.body(spec, data, headers))
        except Problem as problem:
            inputs = problem

        assert spec.database is not None
        kind = (
            _DeviceGate
            if spec.access is Access.DEVICE
            else _TillGate
            if till is not None
            else _Gate
        )
        with runtime.database(spec.database).connection() as conn:
            gate = kind(conn, spec, identity, venue_id, correlation_id, runtime.binding_key)
            outcome = self._gated(gate, runtime, inputs, path, source_ip, correlation_id)
            committed = conn.take_audit_events()
        _relay(runtime, committed)
        return _settle(outcome)

    def _public(self, runtime: Runtime, request: Request[Any, Any]) -> dict[str, Any]:
        if self.spec.database is None:
            return _settle(self._run(request))
        with runtime.database(self.spec.database).connection() as conn:
            with conn.request():
                # An explicit transaction, read or not: the issuer's pages use SET LOCAL,
                # which warns and must not be used in the implicit transaction of a gated read.
                conn.execute("BEGIN")
                request.db = conn
                if self.spec.reads_only:
                    # As for a gated read: a GET's transaction ends with its first result, so
                    # what it sent before reading (a single statement, often) is one round trip.
                    conn.before_first_result(lambda: _commit_with_first_result(conn))
                outcome = self._run(request)
                if not conn.transaction_ended:
                    conn.execute("COMMIT")
            committed = conn.take_audit_events()
        _relay(runtime, committed)
        return _settle(outcome)

    def _gated(
        self,
        gate: _Gate,
        runtime: Runtime,
        inputs: tuple[BaseModel, BaseModel] | Problem,
        path: Mapping[str, uuid.UUID],
        source_ip: str,
        correlation_id: str,
    ) -> dict[str, Any] | Problem:
        conn = gate.conn
        with conn.request():
            try:
                gate.send()
                if isinstance(inputs, Problem):
                    gate.settle()
                    raise inputs
                query, body = inputs
                common: dict[str, Any] = {
                    "query": query,
                    "body": body,
                    "path": path,
                    "source_ip": source_ip,
                    "correlation_id": correlation_id,
                    "db": conn,
                    "identity": gate.identity,
                    "gate": gate,
                    "runtime": runtime,
                }
                request = {
                    Access.VENUE: VenueRequest,
                    Access.DEVICE: DeviceRequest,
                }.get(self.spec.access, UserRequest)(**common)
                conn.before_first_result(gate.on_first_result)
                try:
                    outcome = self._run(request)
                except Problem:
                    gate.settle()  # the gate's refusal comes before the handler's
                    raise
                gate.finish()
                conn.sync()
            except psycopg.Error:
                refusal = gate.refusal_after_error()
                if refusal is not None:
                    raise refusal from None
                raise
        return outcome

    def _run(self, request: Request[Any, Any]) -> dict[str, Any] | Problem:
        """The handler's response, or a refusal whose writes are to be committed."""
        try:
            result = self.body(request)
            if isinstance(result, HtmlPage) and result.refusal is not None:
                # A refusal shown as a page is counted as a refused request's problem is.
                request.runtime.metrics.refused(
                    result.refusal,
                    route=self.spec.route_key,
                    correlation_id=request.correlation_id,
                )
            return events.response(self.spec, result)
        except Problem as problem:
            if problem.keep_writes:
                return problem
            raise


#: SQLSTATEs of a connection the server ended: admin_shutdown (pg_terminate_backend, a
#: fast shutdown), crash_shutdown, cannot_connect_now (starting up, shutting down).
_SERVER_ENDED = frozenset({"57P01", "57P02", "57P03"})


def database_unreachable(error: BaseException) -> bool:
    """Whether ``error`` says the connection to the database was lost or never made (a
    refused connection, a closed socket, a pool with none to give), as opposed to a
    statement that failed."""
    if not isinstance(error, psycopg.OperationalError):
        return False
    state = error.sqlstate
    return state is None or state.startswith("08") or state in _SERVER_ENDED


def database_unavailable() -> Problem:
    return Problem(
        503,
        "database-unavailable",
        "the database is unavailable for a moment; nothing was changed, try again",
        headers={"retry-after": "1"},
    )


def _names_venue(event: Mapping[str, Any], venue_id: uuid.UUID) -> bool:
    """Whether the path's venue is ``venue_id`` (an id that is not a UUID is not)."""
    raw = (event.get("pathParameters") or {}).get("venue_id")
    try:
        return uuid.UUID(str(raw)) == venue_id
    except ValueError:
        return False


class _NoDatabase:
    """What ``request.db`` is on a route that declared it needs no database."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError("this route declared database=None: it has no connection")


_NO_DATABASE: Any = _NoDatabase()


def _commit_with_first_result(conn: GateConnection) -> None:
    conn.execute("COMMIT")
    conn.end_read()


def _relay(runtime: Runtime, committed: list[audit.OutboxEvent]) -> None:
    """After commit, the request's audit events go to the relay; a failure there never
    fails the request (the sweeper sends what stays in the outbox)."""
    if committed:
        try:
            runtime.relay(committed)
        except Exception:
            runtime.log.exception("audit relay failed; the sweeper will send the events")


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
    errors: Literal["problem", "oauth", "page"] = "problem",
    error_page: Callable[[Problem], HtmlPage] | None = None,
    database: DbRole | None = DbRole.VENUE,
    scope: str | tuple[str, ...] | None = None,
    needs: Iterable[Need] = (),
    till: bool = False,
) -> Callable[[Callable[[Any], Result]], Route]:
    if errors not in ("problem", "oauth", "page"):
        raise ValueError(f"errors must be 'problem', 'oauth' or 'page', not {errors!r}")
    if (errors == "page") != (error_page is not None):
        raise ValueError(f"{path}: a page route (errors='page') names its error_page, no other")
    declared_needs = frozenset(needs)
    strays = sorted(repr(need) for need in declared_needs if not isinstance(need, Need))
    if strays:
        raise ValueError(f"{path}: needs are tenancy.Need members, not {strays}")
    if {Need.SIGNING_KEY, Need.PUBLIC_KEYS} <= declared_needs:
        raise ValueError(f"{path}: SIGNING_KEY includes PUBLIC_KEYS: declare one of them")
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
        error_page=error_page,
        database=database,
        scope=scope,
        needs=declared_needs,
        till=till,
    )
    at_a_venue = (Access.VENUE, Access.DEVICE)
    if access in at_a_venue and not path.startswith("/venues/{venue_id}"):
        raise ValueError(f"venue route {path} must start with /venues/{{venue_id}}")
    if access not in at_a_venue and "venue_id" in spec.path_params:
        raise ValueError(f"{path} names a venue: declare it with venue_route")
    if till and (access is not Access.VENUE or database is not DbRole.VENUE):
        raise ValueError(f"{path}: only venue routes may open to till sessions (till=True)")
    if access is Access.DEVICE and (database is not DbRole.ISSUER or scope is not None):
        raise ValueError(f"{path}: a device route connects as the issuer, with the till scope")
    if access is not Access.DEVICE and "till" in spec.accepted_scopes:
        raise ValueError(f"{path}: the till's device scope opens device routes only")
    if access is not Access.PUBLIC and database is None:
        raise ValueError(f"{path}: the gate reads the caller's standing from the database")

    def decorate(fn: HandlerBody) -> Route:
        return Route(spec, fn)

    return decorate


class RouteOptions(TypedDict, total=False):
    """What a declaration says besides its method, path, query and body (``RouteSpec``)."""

    summary: Required[str]
    permission: Permission
    response: type[BaseModel] | None
    status: int
    errors: Literal["problem", "oauth", "page"]
    error_page: Callable[[Problem], HtmlPage] | None
    database: DbRole | None
    scope: str | tuple[str, ...] | None
    needs: Iterable[Need]
    #: Venue routes: whether a till session may call it (at its own venue).
    till: bool


Result = BaseModel | JsonDocument | HtmlPage | Redirect | None


def venue_route(
    method: str,
    path: str,
    *,
    # The defaults are the type variables' own defaults (mypy cannot see that here).
    query: type[QueryT] = NoQuery,  # type: ignore[assignment]
    body: type[BodyT] = NoBody,  # type: ignore[assignment]
    **options: Unpack[RouteOptions],
) -> Callable[[Callable[[VenueRequest[QueryT, BodyT]], Result]], Route]:
    """A route under ``/venues/{venue_id}``: attachment and permission flags are checked."""
    return _declare(Access.VENUE, method, path, query=query, body=body, **options)


def user_route(
    method: str,
    path: str,
    *,
    query: type[QueryT] = NoQuery,  # type: ignore[assignment]
    body: type[BodyT] = NoBody,  # type: ignore[assignment]
    **options: Unpack[RouteOptions],
) -> Callable[[Callable[[UserRequest[QueryT, BodyT]], Result]], Route]:
    """A route for any signed-in, enabled account, bound to no venue."""
    return _declare(Access.USER, method, path, query=query, body=body, **options)


def public_route(
    method: str,
    path: str,
    *,
    query: type[QueryT] = NoQuery,  # type: ignore[assignment]
    body: type[BodyT] = NoBody,  # type: ignore[assignment]
    **options: Unpack[RouteOptions],
) -> Callable[[Callable[[Request[QueryT, BodyT]], Result]], Route]:
    """A route anyone may call (health, the issuer's public documents and endpoints)."""
    return _declare(Access.PUBLIC, method, path, query=query, body=body, **options)


def device_route(
    method: str,
    path: str,
    *,
    query: type[QueryT] = NoQuery,  # type: ignore[assignment]
    body: type[BodyT] = NoBody,  # type: ignore[assignment]
    **options: Unpack[RouteOptions],
) -> Callable[[Callable[[DeviceRequest[QueryT, BodyT]], Result]], Route]:
    """A route under ``/venues/{venue_id}`` a till calls with its device token (opening a
    till session with a PIN): the device must be registered, enabled and serve the venue."""
    return _declare(Access.DEVICE, method, path, query=query, body=body, **options)
