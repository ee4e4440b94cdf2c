"""What the request gate costs a venue request: latency against the bare SQL on the same
connection (the A/B measurement, three times), a split of that latency into its parts, and
whether the ratio holds as the data grows (a venue switcher of 1 and of 200 venues, a queue
page read among 50 and among 5,000 orders)."""

from __future__ import annotations

import json
import statistics
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

from bench.stack import (
    MANY_ORDERS,
    MANY_VENUES_USER,
    ONE_VENUE_USER,
    ORDERS,
    OneConnection,
    api_event,
    one_trip,
)
from bench.timing import Samples, interleaved
from infra.local import postgres
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, NORD, USER, start_demo_session
from tenancy import events
from tenancy.bindings import BindingKey, Bindings
from tenancy.catalogue import discover
from tenancy.db import GateConnection, connect
from tenancy.events import JsonDocument
from tenancy.gate import SECOND_FACTORS, Route, _Gate
from tenancy.permissions import FLAG_PARAMS, Permission
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import Identity, StaticKeySource, TokenVerifier

__all__ = [
    "BARE",
    "BOUND",
    "CALLER",
    "GATE_ALONE",
    "INPUTS",
    "LOG",
    "MODEL",
    "REQUEST_DB",
    "RESPONSE",
    "TRIP",
    "VERIFY",
    "VERIFY_UNCACHED",
    "WHOLE",
    "Caller",
    "GateBench",
    "Latency",
    "ScaleCase",
    "ServerTime",
]

ROOT = Path(__file__).resolve().parents[1]
ORDERS_ROUTE = "GET /venues/{venue_id}/orders"
MY_VENUES_ROUTE = "GET /me/venues"
#: The caller: a regional manager attached to centrale and nord (VIEW_ORDERS, EDIT_PRICES).
CALLER = USER["regional"]

#: Labels of the parts of a gated request.
WHOLE = "gated request (whole)"
BARE = "bare SQL: ORDER_QUEUE alone, 1 trip"
BOUND = "bare SQL after the signed bindings, 1 trip"
REQUEST_DB = "the request's database work, 1 trip"
GATE_ALONE = "the gate's statements alone, 1 trip"
TRIP = "one trivial round trip (SELECT 1)"
INPUTS = "reading the event (headers, path, query, body)"
VERIFY = "token verification, cached (warm)"
VERIFY_UNCACHED = "token verification, uncached (ES256)"
RESPONSE = "response: the JsonDocument passed through"
MODEL = "OrderQueue validate + dump (no longer paid)"
LOG = "one log line (JSON, tenancy.log)"

#: The gate's bindings, for the whole session (the bare side's): signed, so row-level
#: security honours them; the gate's transaction-local bindings override them.
_BIND_SESSION = Bindings.SQL.replace("true)", "false)")
#: How long the bare side's session bindings are honoured: the whole run.
_SESSION_SECONDS = 3600


def _items_in(rows: Sequence[tuple[Any, ...]], key: str) -> int:
    """How many items a result holds: one JSON document (``{key: [...]}``) or one row per
    item, whichever shape the query has today."""
    if len(rows) == 1 and isinstance(rows[0][0], str) and rows[0][0].startswith("{"):
        return len(json.loads(rows[0][0])[key])
    return len(rows)


def _orders_in(rows: Sequence[tuple[Any, ...]]) -> int:
    """How many orders a result of ORDER_QUEUE holds."""
    return _items_in(rows, "orders")


@dataclass(frozen=True)
class Caller:
    """A signed-in person: a live sign-in session and an access token naming it."""

    user_id: uuid.UUID
    session_id: uuid.UUID
    amr: tuple[str, ...]
    token: str


@dataclass(frozen=True)
class Latency:
    #: (gated, bare) samples of each A/B run.
    runs: list[tuple[Samples, Samples]]
    #: The parts measured side by side with the whole, for reading where the time goes.
    parts: list[Samples]

    def ratios(self) -> list[float]:
        return [gated.median / bare.median for gated, bare in self.runs]

    def p90_ratios(self) -> list[float]:
        return [gated.p90 / bare.p90 for gated, bare in self.runs]

    @property
    def ratio(self) -> float:
        """The median of the runs' ratios (of medians)."""
        return statistics.median(self.ratios())

    @property
    def spread(self) -> float:
        ratios = self.ratios()
        return max(ratios) - min(ratios)

    def part(self, label: str) -> float:
        return next(samples.median for samples in self.parts if samples.label == label)


@dataclass(frozen=True)
class ScaleCase:
    """One read measured gated and bare, at one size of the data."""

    label: str
    gated: Samples
    bare: Samples

    @property
    def ratio(self) -> float:
        return self.gated.median / self.bare.median


@dataclass(frozen=True)
class ServerTime:
    """What Postgres spends on one statement, by EXPLAIN (ANALYZE, SUMMARY): medians, in
    seconds. Every request plans its statements anew (no server-side prepared statements:
    they would pin RDS Proxy sessions)."""

    label: str
    planning: float
    execution: float


class _Recorder:
    """Stands in for the connection to learn what the gate sends, without sending it."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, Any]] = []

    def execute(self, query: str, params: Any = None) -> _Recorder:
        self.sent.append((query, params))
        return self

    def begin(self, *, read: bool) -> None:
        if not read:
            self.sent.append(("BEGIN", None))


class GateBench:
    """The gate wired as in a warm Lambda container: one venue-role connection, a
    verifier with the signing key's public half, and the real route declarations."""

    def __init__(self, database: postgres.Database) -> None:
        self.database = database
        self.binding_key = BindingKey.from_setting(database.binding_key)
        self.signing_key = SigningKey.generate()
        self.verifier = self.new_verifier()
        self.routes: dict[str, Route] = {
            d.spec.route_key: d.route for d in discover(ROOT / "functions")
        }
        self.sara = self.caller(CALLER.id)
        self.orders_route = self.routes[ORDERS_ROUTE]
        self.orders_event = self.orders_event_for(CENTRALE)
        from orders.queries import ORDER_QUEUE

        self.order_queue = ORDER_QUEUE
        self.queue_params = {"venue": CENTRALE, "status": None, "limit": ORDERS, "before": None}

    # --- wiring ---------------------------------------------------------------------------

    def new_verifier(self, *, cache_seconds: float = 60) -> TokenVerifier:
        return TokenVerifier(
            issuer=LOCAL_ISSUER,
            audience=LOCAL_AUDIENCE,
            keys=StaticKeySource(self.signing_key.jwks()),
            cache_seconds=cache_seconds,
        )

    def caller(self, user_id: uuid.UUID, **claims: Any) -> Caller:
        """A new sign-in session of ``user_id`` and a token naming it."""
        session_id, amr = start_demo_session(self.database.admin_url, user_id)
        token = self.signing_key.access_token(
            user_id,
            issuer=LOCAL_ISSUER,
            audience=LOCAL_AUDIENCE,
            sid=str(session_id),
            amr=amr,
            **claims,
        )
        return Caller(user_id, session_id, tuple(amr), token)

    def orders_event_for(self, venue_id: uuid.UUID, caller: Caller | None = None) -> dict[str, Any]:
        return api_event(
            "GET",
            "/venues/{venue_id}/orders",
            {"venue_id": str(venue_id)},
            (caller or self.sara).token,
        )

    def runtime(self, conn: GateConnection, issuer_conn: GateConnection | None = None) -> Runtime:
        databases = {DbRole.VENUE: OneConnection(conn)}
        if issuer_conn is not None:
            databases[DbRole.ISSUER] = OneConnection(issuer_conn)
        return Runtime(databases=databases, verifier=self.verifier, binding_key=self.binding_key)

    def bindings(
        self, caller: Caller, venue_id: uuid.UUID | None, *, for_seconds: float = 0
    ) -> Bindings:
        return self.binding_key.bind(
            user_id=caller.user_id,
            session_id=caller.session_id,
            venue_id=venue_id,
            mfa=bool(set(caller.amr) & SECOND_FACTORS),
            now=time.time() + for_seconds,
        )

    def bind_session(
        self, conn: GateConnection, caller: Caller, venue_id: uuid.UUID | None
    ) -> None:
        """Bind ``caller`` (at ``venue_id``) for the whole session, genuinely signed: the
        bare side's statements then pass row-level security as the gate's do."""
        one_trip(
            conn,
            _BIND_SESSION,
            self.bindings(caller, venue_id, for_seconds=_SESSION_SECONDS).as_params(),
        )

    def served(self, runtime: Runtime, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        response = route.invoke(event, runtime)
        # A page's redirect (302, 303) is its success as 2xx is a JSON route's.
        if not 200 <= int(response["statusCode"]) < 400:
            raise RuntimeError(f"{route.spec.route_key} answered {response}")
        return response

    def gate(
        self, conn: GateConnection, route: Route, identity: Identity, venue_id: uuid.UUID
    ) -> _Gate:
        """The gate's own object for one request: its statements are exactly the gate's.
        (A private class: if its signature changes, this is the one line to follow it.)"""
        return _Gate(conn, route.spec, identity, venue_id, "bench", self.binding_key)

    # --- latency ------------------------------------------------------------------------

    def latency(self, *, warmup: int, pairs: int, runs: int, part_rounds: int) -> Latency:
        """The full gate against the bare query, A B A B on one connection, ``runs`` times;
        then the parts of a gated request, timed side by side with it."""
        conn = connect(self.database.venue_url)
        try:
            runtime = self.runtime(conn)
            route, event = self.orders_route, self.orders_event
            body = self.served(runtime, route, event)["body"]
            if len(json.loads(body)["orders"]) != ORDERS:
                raise RuntimeError(f"the gate served no {ORDERS} orders")
            self.bind_session(conn, self.sara, CENTRALE)
            queue, params = self.order_queue, self.queue_params
            if _orders_in(one_trip(conn, queue, params)) != ORDERS:
                raise RuntimeError(f"the bare query returned no {ORDERS} orders")
            candidates: list[tuple[str, Callable[[], object]]] = [
                ("through the gate", lambda: route.invoke(event, runtime)),
                ("bare SQL", lambda: one_trip(conn, queue, params)),
            ]
            measured = []
            for run in range(runs):
                gated, bare = interleaved(
                    candidates, warmup=warmup if run == 0 else warmup // 3, iterations=pairs
                )
                measured.append((gated, bare))
            parts = interleaved(
                self._parts(conn, runtime, body), warmup=warmup // 3, iterations=part_rounds
            )
            return Latency(measured, parts)
        finally:
            conn.close()

    def _parts(
        self, conn: GateConnection, runtime: Runtime, body: str
    ) -> list[tuple[str, Callable[[], object]]]:
        """A gated request and what it is made of, each timed alone."""
        from orders.models import OrderQueue
        from orders.queries import order_queue_json

        route, event, token = self.orders_route, self.orders_event, self.sara.token
        spec = route.spec
        queue, params = self.order_queue, self.queue_params
        identity = self.verifier.verify(token)
        uncached = self.new_verifier(cache_seconds=0)
        log = runtime.log.bind(
            correlation_id=str(uuid.uuid4()),
            route=spec.route_key,
            user_id=str(CALLER.id),
            venue_id=str(CENTRALE),
        )

        def bound_transaction() -> object:
            # A read's transaction: what it sends up to its Sync (no BEGIN, no COMMIT).
            bindings = self.bindings(self.sara, CENTRALE)
            with conn.request():
                conn.execute(Bindings.SQL, bindings.as_params())
                cursor = conn.execute(queue, params)
                conn.sync()
                return cursor.fetchall()

        def request_database_work() -> object:
            # What Route._gated does, without the event, the response and the log line.
            gate = self.gate(conn, route, identity, CENTRALE)
            with conn.request():
                gate.send()
                conn.before_first_result(gate.on_first_result)
                document = order_queue_json(conn, CENTRALE, None, ORDERS)
                gate.finish()
                conn.sync()
            return document

        def gate_alone() -> object:
            gate = self.gate(conn, route, identity, CENTRALE)
            with conn.request():
                gate.send()
                gate.on_first_result()
                gate.finish()
            return gate

        def inputs() -> object:
            headers = events.headers(event)
            data = events.raw_body(event, runtime.max_body_bytes)
            events.source_ip(event)
            events.path_params(spec, event)
            return events.query(spec, event), events.body(spec, data, headers)

        return [
            (WHOLE, lambda: route.invoke(event, runtime)),
            (BARE, lambda: one_trip(conn, queue, params)),
            (BOUND, bound_transaction),
            (REQUEST_DB, request_database_work),
            (GATE_ALONE, gate_alone),
            (TRIP, lambda: one_trip(conn, "SELECT 1")),
            (INPUTS, inputs),
            (VERIFY, lambda: self.verifier.verify(token)),
            (VERIFY_UNCACHED, lambda: uncached.verify(token)),
            (RESPONSE, lambda: events.response(spec, JsonDocument(body))),
            (MODEL, lambda: OrderQueue.model_validate_json(body).model_dump_json()),
            (LOG, lambda: log.info("served", status=200)),
        ]

    def server_side(self, *, rounds: int, warmup: int = 10) -> list[ServerTime]:
        """Planning and execution, in Postgres, of a gated GET orders' two statements that
        are not trivial: the gate's read, exactly as the gate sends it (recorded from
        ``_Gate.send``), and the data's. Run as the venue role with Sara at centrale bound
        in a transaction that is rolled back."""
        identity = self.verifier.verify(self.sara.token)
        recorder = _Recorder()
        self.gate(cast(GateConnection, recorder), self.orders_route, identity, CENTRALE).send()
        if len(recorder.sent) != 1:
            raise RuntimeError(f"a read's gate no longer sends one statement: {recorder.sent}")
        gate_read, gate_params = recorder.sent[-1]
        statements = [
            ("the gate's statement (app.venue_gate)", gate_read, gate_params),
            (f"the data (ORDER_QUEUE, {ORDERS} orders)", self.order_queue, self.queue_params),
        ]
        planning: dict[str, list[float]] = {label: [] for label, _, _ in statements}
        execution: dict[str, list[float]] = {label: [] for label, _, _ in statements}
        conn = connect(self.database.venue_url)
        try:
            for round_ in range(warmup + rounds):
                conn.execute("BEGIN")
                conn.execute(Bindings.SQL, self.bindings(self.sara, CENTRALE).as_params())
                for label, query, params in statements:
                    explained = "EXPLAIN (ANALYZE, SUMMARY, FORMAT JSON) " + query
                    row = conn.execute(explained, params).fetchone()
                    assert row is not None
                    plan = json.loads(row[0]) if isinstance(row[0], str) else row[0]
                    if round_ >= warmup:
                        planning[label].append(plan[0]["Planning Time"] / 1000)
                        execution[label].append(plan[0]["Execution Time"] / 1000)
                conn.execute("ROLLBACK")
        finally:
            conn.close()
        return [
            ServerTime(
                label, statistics.median(planning[label]), statistics.median(execution[label])
            )
            for label, _, _ in statements
        ]

    # --- scale ----------------------------------------------------------------------------

    def scale(self, *, warmup: int, rounds: int) -> list[tuple[ScaleCase, ScaleCase]]:
        """The same read, gated and bare, at a small and a large size of the data: the
        venue switcher of a person attached to 1 and to 200 venues, and the orders queue's
        default page at a venue with 50 and with 5,000 orders. All eight candidates run in
        one interleaved loop, each pair on its own connection."""
        from account.queries import VENUE_CHOICES

        switcher = self.routes[MY_VENUES_ROUTE]
        conns: list[GateConnection] = []
        candidates: list[tuple[str, Callable[[], object]]] = []

        def case(
            label: str,
            route: Route,
            event: dict[str, Any],
            caller: Caller,
            venue_id: uuid.UUID | None,
            query: str,
            params: dict[str, Any],
            expect: Callable[[str, list[tuple[Any, ...]]], bool],
        ) -> None:
            conn = connect(self.database.venue_url)
            conns.append(conn)
            runtime = self.runtime(conn)
            body = self.served(runtime, route, event)["body"]
            self.bind_session(conn, caller, venue_id)
            if not expect(body, one_trip(conn, query, params)):
                raise RuntimeError(f"{label}: the gated or the bare read returned another size")
            candidates.append((f"{label} gated", lambda: route.invoke(event, runtime)))
            candidates.append((f"{label} bare", lambda: one_trip(conn, query, params)))

        def venues(count: int) -> Callable[[str, list[tuple[Any, ...]]], bool]:
            return lambda body, rows: (
                len(json.loads(body)["venues"]) == _items_in(rows, "venues") == count
            )

        def orders(body: str, rows: list[tuple[Any, ...]]) -> bool:
            return len(json.loads(body)["orders"]) == _orders_in(rows) == ORDERS

        try:
            for user in (ONE_VENUE_USER, MANY_VENUES_USER):
                caller = self.caller(user.id)
                event = api_event("GET", "/me/venues", {}, caller.token)
                noun = "venue" if user.venues == 1 else "venues"
                case(
                    f"GET /me/venues, {user.venues} {noun}",
                    switcher,
                    event,
                    caller,
                    None,
                    VENUE_CHOICES,
                    {"user": user.id, "all_flags": int(Permission.all()), **FLAG_PARAMS},
                    venues(user.venues),
                )
            for venue_id, count in ((CENTRALE, ORDERS), (NORD, MANY_ORDERS)):
                case(
                    f"GET orders, {count:,} orders",
                    self.orders_route,
                    self.orders_event_for(venue_id),
                    self.sara,
                    venue_id,
                    self.order_queue,
                    {**self.queue_params, "venue": venue_id},
                    orders,
                )
            samples = interleaved(candidates, warmup=warmup, iterations=rounds)
        finally:
            for conn in conns:
                conn.close()
        cases = [
            ScaleCase(gated.label.removesuffix(" gated"), gated, bare)
            for gated, bare in zip(samples[::2], samples[1::2], strict=True)
        ]
        return [(cases[0], cases[1]), (cases[2], cases[3])]
