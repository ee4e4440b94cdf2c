"""What the request gate costs a venue request: latency against the bare SQL on the same
connection, a split of that latency into its parts, and the database round trips of a read
and of a write, counted on the wire."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from pydantic import BaseModel

from bench.stack import ORDERS, OneConnection, api_event
from bench.timing import Samples, interleaved
from bench.wire import CountingProxy, Turn
from infra.local import postgres
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, USER, menu_item_id, start_demo_session
from tenancy import gate
from tenancy.bindings import BindingKey, Bindings
from tenancy.catalogue import discover
from tenancy.db import GateConnection, connect
from tenancy.gate import Route
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import StaticKeySource, TokenVerifier

__all__ = [
    "BARE",
    "CALLER",
    "GATE_SQL",
    "LOG",
    "MODEL",
    "TRIP",
    "VERIFY",
    "WHOLE",
    "GateBench",
    "Latency",
    "TripCount",
]

ROOT = Path(__file__).resolve().parents[1]
ORDERS_ROUTE = "GET /venues/{venue_id}/orders"
PRICE_ROUTE = "PATCH /venues/{venue_id}/menu/items/{item_id}"
#: The caller: a regional manager attached to centrale (VIEW_ORDERS and EDIT_PRICES).
CALLER = USER["regional"]

#: Labels of the parts of a gated request.
WHOLE = "gated request (whole)"
BARE = "bare SQL (ORDER_QUEUE alone)"
TRIP = "one trivial round trip (SELECT 1)"
GATE_SQL = "gate SQL: BEGIN, bind, attachment read, COMMIT"
VERIFY = "token verification (ES256, PyJWT)"
MODEL = "response model: validate + dump JSON"
LOG = "one log line (Powertools JSON)"

#: The gate's bindings, for the whole session (the bare query's side): signed, so row-level
#: security honours them, and valid for the whole run.
_BIND_SESSION = Bindings.SQL.replace("true)", "false)")
_UNBIND = "RESET app.venue_id; RESET app.user_id; RESET app.session_id; RESET app.binding"


def _orders_in(rows: Sequence[tuple[Any, ...]]) -> int:
    """How many orders a result of ORDER_QUEUE holds: one JSON document (``{"orders":
    [...]}``) or one row per order, whichever shape the query has today."""
    if len(rows) == 1 and isinstance(rows[0][0], str) and rows[0][0].startswith("{"):
        return len(json.loads(rows[0][0])["orders"])
    return len(rows)


@dataclass(frozen=True)
class Latency:
    gate: Samples
    bare: Samples
    #: The parts measured side by side with the whole, for reading where the time goes.
    parts: list[Samples]

    @property
    def ratio(self) -> float:
        return self.gate.median / self.bare.median


@dataclass(frozen=True)
class TripCount:
    label: str
    turns: list[Turn]
    #: The count was the same in every captured request.
    stable: bool


class GateBench:
    """The gate wired as in a warm Lambda container: one runtime-role connection, a
    verifier with the signing key's public half, and the real route declarations."""

    def __init__(self, database: postgres.Database) -> None:
        self._runtime_url = database.venue_url
        self.binding_key = BindingKey.from_setting(database.binding_key)
        key = SigningKey.generate()
        self.verifier = TokenVerifier(
            issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(key.jwks())
        )
        self.session_id, amr = start_demo_session(database.admin_url, CALLER.id)
        self.token = key.access_token(
            CALLER.id,
            issuer=LOCAL_ISSUER,
            audience=LOCAL_AUDIENCE,
            sid=str(self.session_id),
            amr=amr,
        )
        routes = {d.spec.route_key: d.route for d in discover(ROOT / "functions")}
        self.orders_route: Route = routes[ORDERS_ROUTE]
        self.price_route: Route = routes[PRICE_ROUTE]
        self.orders_event = api_event(
            "GET", "/venues/{venue_id}/orders", {"venue_id": str(CENTRALE)}, self.token
        )
        from orders.queries import ORDER_QUEUE

        self.order_queue = ORDER_QUEUE
        self.queue_params = {"venue": CENTRALE, "status": None, "limit": ORDERS}

    def price_event(self, price_cents: int) -> dict[str, Any]:
        return api_event(
            "PATCH",
            "/venues/{venue_id}/menu/items/{item_id}",
            {"venue_id": str(CENTRALE), "item_id": str(menu_item_id("Tiramisù"))},
            self.token,
            body=json.dumps({"price_cents": price_cents}),
        )

    def _runtime(self, conn: GateConnection) -> Runtime:
        return Runtime(
            databases={DbRole.VENUE: OneConnection(conn)},
            verifier=self.verifier,
            binding_key=self.binding_key,
        )

    def _bindings(self, *, for_seconds: float = 0) -> Bindings:
        return self.binding_key.bind(
            user_id=CALLER.id,
            session_id=self.session_id,
            venue_id=CENTRALE,
            mfa=False,
            now=time.time() + for_seconds,
        )

    def _bind_session(self, conn: psycopg.Connection) -> None:
        conn.execute(_BIND_SESSION, self._bindings(for_seconds=3600).as_params())

    def _served(self, runtime: Runtime, route: Route, event: dict[str, Any]) -> dict[str, Any]:
        response = route.invoke(event, runtime)
        if response["statusCode"] != 200:
            raise RuntimeError(f"{route.spec.route_key} answered {response}")
        return response

    # --- latency ------------------------------------------------------------------------

    def latency(self, *, warmup: int, iterations: int, part_iterations: int) -> Latency:
        """The full gate against the bare query, A B A B on one connection; then the
        parts of a gated request, timed side by side with it."""
        conn = connect(self._runtime_url)
        try:
            return self._latency(conn, warmup, iterations, part_iterations)
        finally:
            conn.close()

    def _latency(
        self, conn: GateConnection, warmup: int, iterations: int, part_iterations: int
    ) -> Latency:
        runtime = self._runtime(conn)
        event = self.orders_event
        route = self.orders_route
        body = self._served(runtime, route, event)["body"]
        if len(json.loads(body)["orders"]) != ORDERS:
            raise RuntimeError(f"the gate served no {ORDERS} orders")

        def gated() -> object:
            return route.invoke(event, runtime)

        # The bare SQL: ORDER_QUEUE alone, one statement in its own (implicit) transaction,
        # as the runtime role, with the venue bound for the session beforehand (row-level
        # security needs it). The gate binds per transaction, which overrides this.
        self._bind_session(conn)
        queue, params = self.order_queue, self.queue_params

        def bare() -> list[tuple[Any, ...]]:
            return conn.execute(queue, params).fetchall()

        if _orders_in(bare()) != ORDERS:
            raise RuntimeError(f"the bare query returned no {ORDERS} orders")
        gate_samples, bare_samples = interleaved(
            [("through the gate", gated), ("bare SQL", bare)],
            warmup=warmup,
            iterations=iterations,
        )
        parts = interleaved(
            self._parts(conn, runtime, body),
            warmup=warmup // 5,
            iterations=part_iterations,
        )
        conn.execute(_UNBIND)
        return Latency(gate_samples, bare_samples, parts)

    def _parts(
        self, conn: psycopg.Connection, runtime: Runtime, body: str
    ) -> list[tuple[str, Callable[[], object]]]:
        """A gated request and what it is made of, each timed alone."""
        route, event, token = self.orders_route, self.orders_event, self.token
        queue, params = self.order_queue, self.queue_params
        response_model = route.spec.response
        assert response_model is not None
        model: type[BaseModel] = response_model
        log = runtime.log.bind(
            correlation_id=str(uuid.uuid4()),
            route=route.spec.route_key,
            user_id=str(CALLER.id),
            venue_id=str(CENTRALE),
        )

        def bound_transaction() -> object:
            with conn.pipeline():
                conn.execute("BEGIN")
                conn.execute(Bindings.SQL, self._bindings().as_params())
                cursor = conn.execute(queue, params)
                conn.execute("COMMIT")
            return cursor.fetchall()

        parts: list[tuple[str, Callable[[], object]]] = [
            (WHOLE, lambda: route.invoke(event, runtime)),
            (BARE, lambda: conn.execute(queue, params).fetchall()),
            ("bare SQL in a bound transaction, 1 trip", bound_transaction),
            (TRIP, lambda: conn.execute("SELECT 1").fetchall()),
        ]
        # The gate's own statements, read from the gate so they are exactly what it sends;
        # skipped if it no longer names them so.
        bind_sql, gate_sql = Bindings.SQL, getattr(gate, "_VENUE_GATE", None)
        if isinstance(gate_sql, str):
            standing = {"user": CALLER.id, "venue": CENTRALE, "session": self.session_id}

            def gate_statements() -> object:
                with conn.pipeline():
                    conn.execute("BEGIN")
                    conn.execute(bind_sql, self._bindings().as_params())
                    cursor = conn.execute(gate_sql, standing)
                    conn.execute("COMMIT")
                return cursor.fetchone()

            parts.append((GATE_SQL, gate_statements))
        return [
            *parts,
            (VERIFY, lambda: self.verifier.verify(token)),
            (MODEL, lambda: model.model_validate_json(body).model_dump_json()),
            (LOG, lambda: log.info("served", status=200)),
        ]

    # --- round trips --------------------------------------------------------------------

    def round_trips(self, captures: int = 3) -> list[TripCount]:
        """Round trips of each request, through a counting proxy, after two warm-up
        requests; ``captures`` requests are counted and the last one is described."""
        proxy = CountingProxy(self._runtime_url)
        conn = connect(proxy.conninfo())
        try:
            return self._round_trips(proxy, conn, captures)
        finally:
            conn.close()
            proxy.close()

    def _round_trips(
        self, proxy: CountingProxy, conn: GateConnection, captures: int
    ) -> list[TripCount]:
        runtime = self._runtime(conn)
        queue, params = self.order_queue, self.queue_params
        prices = iter(range(701, 800))

        def count(label: str, call: Callable[[], object]) -> TripCount:
            call(), call()
            seen: list[list[Turn]] = []
            for _ in range(captures):
                proxy.reset()
                call()
                seen.append(proxy.turns())
            return TripCount(label, seen[-1], stable=len({len(t) for t in seen}) == 1)

        counts = [
            count(
                "GET /venues/{id}/orders",
                lambda: self._served(runtime, self.orders_route, self.orders_event),
            ),
            count(
                "PATCH /venues/{id}/menu/items/{item}",
                lambda: self._served(runtime, self.price_route, self.price_event(next(prices))),
            ),
        ]
        # The counter's own check: the bare query alone must be exactly one round trip.
        self._bind_session(conn)
        counts.append(
            count("check: bare SQL alone", lambda: conn.execute(queue, params).fetchall())
        )
        conn.execute(_UNBIND)
        return counts
