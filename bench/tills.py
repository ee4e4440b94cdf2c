"""`python -m bench.tills`: what opening a till session with a PIN costs, and a till
session's reads.

1. The PIN sign-in, POST /venues/{venue_id}/till-sessions through the real route (the
   gate's device check, the device's lock, the PIN lookup, the session, its audit event,
   the token signed by moto's in-process KMS), split into the PIN's digest (the "hash
   verification": one HMAC-SHA256 per pepper key), the token's signature, and the rest;
   beside it, what one argon2id verification costs, which a PIN stored with argon2id would
   need once per member of staff, since an argon2id hash cannot be looked up.
2. Round trips, counted on the wire: the PIN sign-in (right and wrong PIN), a till
   session's GET of the orders queue, and the lock.
3. GET /venues/{venue_id}/orders as a till session against the same as a person.

It reports and never fails: timings belong in docs/benchmarks.md ("Tills"), not in tests.
"""

from __future__ import annotations

import sys
from pathlib import Path

_ROOT = Path(__file__).resolve().parents[1]
for _path in (_ROOT / "layers" / "tenancy", _ROOT / "functions", _ROOT):
    if str(_path) not in sys.path:  # `python -m bench.tills` without `make`'s PYTHONPATH
        sys.path.insert(0, str(_path))

import datetime as dt  # noqa: E402
import json  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from dataclasses import dataclass  # noqa: E402
from typing import Any  # noqa: E402

import psycopg  # noqa: E402

from bench.stack import OneConnection, api_event, bench_database, quiet_request_logs  # noqa: E402
from bench.timing import Samples, interleaved  # noqa: E402
from bench.wire import CountingProxy, Turn  # noqa: E402
from infra.local import postgres  # noqa: E402
from infra.local.seed import (  # noqa: E402
    CENTRALE,
    DEMO_PINS,
    LOCAL_PIN_PEPPER,
    SPA_CLIENT_ID,
    TILL_CLIENT_ID,
    USER,
    demo_staff_id,
    start_demo_session,
)
from tenancy.bindings import BindingKey  # noqa: E402
from tenancy.catalogue import discover  # noqa: E402
from tenancy.db import GateConnection, connect  # noqa: E402
from tenancy.gate import Route  # noqa: E402
from tenancy.pins import PinPepper  # noqa: E402
from tenancy.runtime import Runtime  # noqa: E402
from tenancy.spec import DbRole  # noqa: E402
from tenancy.tokens import StaticKeySource, TokenVerifier  # noqa: E402

PIN_ROUTE = "POST /venues/{venue_id}/till-sessions"
REGISTER_ROUTE = "POST /venues/{venue_id}/tills"
SET_PIN_ROUTE = "PUT /venues/{venue_id}/staff/{staff_id}/pin"
ORDERS_ROUTE = "GET /venues/{venue_id}/orders"
LOCK_ROUTE = "DELETE /venues/{venue_id}/till-sessions/current"
WARMUP = 20
ROUNDS = 200
READ_WARMUP = 200
READ_PAIRS = 2000
#: Members of staff a venue might have: an argon2id PIN would be verified against each.
STAFF = 20
WAITER_PIN = DEMO_PINS["waiter"]
WRONG_PIN = "9999"


def _progress(message: str) -> None:
    print(f"[bench.tills] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


@dataclass
class TillStack:
    """The routes wired as in warm Lambda containers: one connection per database role,
    the issuer (its key in moto's KMS), the local pepper, the real declarations."""

    database: postgres.Database
    issuer: Any
    venue: GateConnection
    issuing: GateConnection
    runtime: Runtime
    routes: dict[str, Route]
    device: str

    def event(
        self, route: str, token: str, body: dict[str, Any] | None = None, **path: str
    ) -> dict[str, Any]:
        method, template = route.split(" ", 1)
        return api_event(
            method,
            template,
            {"venue_id": str(CENTRALE), **path},
            token,
            body=None if body is None else json.dumps(body),
        )

    def person_token(self, who: str) -> str:
        """An access token of a demo person, as the issuer signs it, in a new sign-in."""
        from auth.grants import Session, access_token

        session_id, amr = start_demo_session(self.database.admin_url, USER[who].id)
        return access_token(
            self.issuer,
            subject=str(USER[who].id),
            client_id=SPA_CLIENT_ID,
            scope="account venue",
            session=Session(session_id, amr, "urn:venue:loa:1", dt.datetime.now(dt.UTC)),
        )

    def invoke(self, route: str, event: dict[str, Any], expected: int) -> dict[str, Any]:
        response = self.routes[route].invoke(event, self.runtime)
        if response["statusCode"] != expected:
            raise RuntimeError(f"{route} answered {response}")
        return response

    def open_session(self) -> str:
        opened = self.invoke(
            PIN_ROUTE, self.event(PIN_ROUTE, self.device, {"pin": WAITER_PIN}), 201
        )
        token: str = json.loads(opened["body"])["access_token"]
        return token

    def forget_wrong_pins(self) -> None:
        with psycopg.connect(self.database.admin_url, autocommit=True) as admin:
            admin.execute(
                "DELETE FROM sign_in_failures WHERE scope = 'till' AND key = %s", (TILL_CLIENT_ID,)
            )


def _stack(database: postgres.Database, issuer: Any, venue_url: str, issuer_url: str) -> TillStack:
    from auth.grants import access_token

    venue, issuing = connect(venue_url), connect(issuer_url)
    runtime = Runtime(
        databases={DbRole.VENUE: OneConnection(venue), DbRole.ISSUER: OneConnection(issuing)},
        verifier=TokenVerifier(
            issuer=issuer.settings.token_issuer,
            audience=issuer.settings.token_audience,
            keys=StaticKeySource(issuer.signer.jwks()),
        ),
        binding_key=BindingKey.from_setting(database.binding_key),
        collaborators={type(issuer): issuer, PinPepper: PinPepper.from_setting(LOCAL_PIN_PEPPER)},
    )
    device = access_token(
        issuer, subject=TILL_CLIENT_ID, client_id=TILL_CLIENT_ID, scope="till", session=None
    )
    routes = {d.spec.route_key: d.route for d in discover(_ROOT / "functions")}
    return TillStack(database, issuer, venue, issuing, runtime, routes, device)


# --- 1. the PIN sign-in ---------------------------------------------------------------------


@dataclass(frozen=True)
class PinCost:
    whole: Samples
    digest: Samples
    signing: Samples
    argon2: Samples

    @property
    def rest(self) -> float:
        return max(self.whole.median - self.digest.median - self.signing.median, 0.0)


def pin_cost(stack: TillStack) -> PinCost:
    from auth import passwords
    from auth.tills import till_session_token

    pepper = PinPepper.from_setting(LOCAL_PIN_PEPPER)
    event = stack.event(PIN_ROUTE, stack.device, {"pin": WAITER_PIN})
    stored = passwords.hash_password(WAITER_PIN)
    expires = dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)

    def whole() -> object:
        return stack.invoke(PIN_ROUTE, event, 201)

    def signing() -> object:
        return till_session_token(
            stack.issuer,
            session_id=uuid.uuid4(),
            venue_id=CENTRALE,
            staff_member_id=uuid.uuid4(),
            client_id=TILL_CLIENT_ID,
            expires_at=expires,
        )

    samples = interleaved(
        [
            ("whole", whole),
            ("digest", lambda: pepper.digests(CENTRALE, WAITER_PIN)),
            ("signing", signing),
            ("argon2", lambda: passwords.verify_password(stored, WAITER_PIN)),
        ],
        warmup=WARMUP,
        iterations=ROUNDS,
    )
    return PinCost(*samples)


def report_pin_cost(cost: PinCost) -> None:
    from auth.passwords import ARGON2_MEMORY_KIB, ARGON2_PARALLELISM, ARGON2_TIME_COST

    whole = cost.whole.median
    print("1. PIN sign-in: POST /venues/{centrale}/till-sessions, right PIN, warm, in-process")
    print(f"   {ROUNDS} rounds of the four, interleaved, after {WARMUP} warm-up rounds (medians)")
    rows = [
        ("the whole request (Route.invoke)", whole),
        ("PIN digest: HMAC-SHA256 under the pepper", cost.digest.median),
        ("token signature (moto's KMS, in-process)", cost.signing.median),
        ("the rest: gate, 2 round trips, models, log", cost.rest),
    ]
    for label, seconds in rows:
        print(f"   {label:<46} {_ms(seconds)} {seconds / whole:7.1%}")
    argon2 = cost.argon2.median
    print(
        f"   for comparison, not part of the request: one argon2id verification"
        f" (m={ARGON2_MEMORY_KIB} KiB t={ARGON2_TIME_COST} p={ARGON2_PARALLELISM})"
    )
    print(f"   {'  one verification':<46} {_ms(argon2)} {argon2 / whole:7.1%}")
    print(
        f"   {f'  a lookup among {STAFF} staff (one per person)':<46} {_ms(argon2 * STAFF)}"
        f" {argon2 * STAFF / whole:7.1%}"
    )
    print()


# --- 2. round trips -------------------------------------------------------------------------


def round_trips(database: postgres.Database, issuer: Any) -> list[tuple[str, list[Turn]]]:
    venue_proxy = CountingProxy(database.venue_url)
    issuer_proxy = CountingProxy(database.issuer_url)
    stack = _stack(database, issuer, venue_proxy.conninfo(), issuer_proxy.conninfo())
    try:
        counted: list[tuple[str, list[Turn]]] = []

        def count(label: str, proxy: CountingProxy, call: Callable[[], object]) -> None:
            call()
            proxy.reset()
            call()
            counted.append((label, proxy.turns()))

        right = stack.event(PIN_ROUTE, stack.device, {"pin": WAITER_PIN})
        wrong = stack.event(PIN_ROUTE, stack.device, {"pin": WRONG_PIN})
        count("PIN sign-in, right PIN", issuer_proxy, lambda: stack.invoke(PIN_ROUTE, right, 201))

        def wrong_pin() -> object:
            stack.forget_wrong_pins()
            return stack.invoke(PIN_ROUTE, wrong, 403)

        count("PIN sign-in, wrong PIN (counted)", issuer_proxy, wrong_pin)
        stack.forget_wrong_pins()
        token = stack.open_session()
        orders = stack.event(ORDERS_ROUTE, token)
        count(
            "GET orders as a till session",
            venue_proxy,
            lambda: stack.invoke(ORDERS_ROUTE, orders, 200),
        )

        stack.invoke(LOCK_ROUTE, stack.event(LOCK_ROUTE, stack.open_session()), 204)  # warm
        lock = stack.event(LOCK_ROUTE, stack.open_session())
        venue_proxy.reset()
        stack.invoke(LOCK_ROUTE, lock, 204)
        counted.append(("DELETE till-sessions/current (lock)", venue_proxy.turns()))

        manager = stack.person_token("regional")
        register = stack.event(REGISTER_ROUTE, manager, {"name": "Bench till"})
        count(
            "POST tills (register a till)",
            venue_proxy,
            lambda: stack.invoke(REGISTER_ROUTE, register, 201),
        )
        with psycopg.connect(database.admin_url) as admin:
            waiter = str(demo_staff_id(admin, "waiter", CENTRALE))
        set_pin = stack.event(SET_PIN_ROUTE, manager, {"pin": WAITER_PIN}, staff_id=waiter)
        count(
            "PUT staff/{id}/pin (a reset)",
            venue_proxy,
            lambda: stack.invoke(SET_PIN_ROUTE, set_pin, 200),
        )
        return counted
    finally:
        stack.venue.close()
        stack.issuing.close()
        venue_proxy.close()
        issuer_proxy.close()


def report_round_trips(counted: list[tuple[str, list[Turn]]]) -> None:
    print("2. Database round trips, counted at a loopback TCP proxy (a burst the server answers)")
    for label, turns in counted:
        noun = "round trip" if len(turns) == 1 else "round trips"
        print(f"   {label:<40} {len(turns)} {noun}")
        for number, turn in enumerate(turns, 1):
            print(f"      {number}. {turn.carries()}")
            print(f"         sent [{turn.messages()}]  <- {turn.answer()}")
    print()


# --- 3. a till session's read against a person's ---------------------------------------------


def read_cost(stack: TillStack) -> tuple[Samples, Samples]:
    till = stack.event(ORDERS_ROUTE, stack.open_session())
    person = stack.event(ORDERS_ROUTE, stack.person_token("waiter"))
    till_samples, person_samples = interleaved(
        [
            ("till session", lambda: stack.invoke(ORDERS_ROUTE, till, 200)),
            ("person", lambda: stack.invoke(ORDERS_ROUTE, person, 200)),
        ],
        warmup=READ_WARMUP,
        iterations=READ_PAIRS,
    )
    return till_samples, person_samples


def report_read_cost(till: Samples, person: Samples) -> None:
    print("3. GET /venues/{centrale}/orders: centrale's waiter as a till session and as a person")
    print(f"   {READ_PAIRS} interleaved pairs after {READ_WARMUP} warm-up pairs")
    print(f"   {'':44} {'median':>11} {'p90':>11}")
    for label, samples in (
        ("A  as a till session (waiter's PIN)", till),
        ("B  as a person", person),
    ):
        print(f"   {label:<44} {_ms(samples.median)} {_ms(samples.p90)}")
    print(f"   ratio A / B {till.median / person.median:6.2f}")
    print()


def main() -> None:
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    from infra.local.issuer import in_memory_issuer

    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        _progress("starting Postgres, migrating and seeding a fresh database")
        with bench_database() as db, in_memory_issuer() as issuer:
            database = db.database
            stack = _stack(database, issuer, database.venue_url, database.issuer_url)
            with psycopg.connect(database.admin_url) as admin:
                waiter = demo_staff_id(admin, "waiter", CENTRALE)
            cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else 0
            print("Till benchmarks (python -m bench.tills)")
            print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
            system, python = platform.system(), platform.python_version()
            print(f"  machine   {cores} cores, {system}, python {python}")
            print(f"  postgres  {db.server_version}, {db.origin}; the waiter is staff {waiter}")
            print()
            _progress("timing the PIN sign-in and its parts")
            cost = pin_cost(stack)
            _progress("timing a till session's read against a person's")
            reads = read_cost(stack)
            stack.venue.close()
            stack.issuing.close()
            _progress("counting round trips")
            counted = round_trips(database, issuer)
        report_pin_cost(cost)
        report_round_trips(counted)
        report_read_cost(*reads)
    print(f"(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
