"""`python -m bench.people`: what the gate costs the people routes.

1. The attachments list (``GET /venues/{centrale}/attachments``, centrale topped up to
   ``ATTACHED`` people through ``staff.logic.attach``) through the full gate, against its
   bare SQL (``staff.queries.ATTACHMENTS``) on the same runtime-role connection, bound for the
   session beforehand: interleaved A B A B, medians and p90, the ratio A / B; and B without
   the open invitations' half of the list (``INVITED`` of them at centrale), B / D.
2. Database round trips of every people route, counted at a loopback proxy (bench/wire.py):
   a read should be one, a write two.

It reports and never fails on a miss (docs/benchmarks.md, "People"). Progress goes to
stderr, the report to stdout. ``--pairs N`` changes the number of timed pairs.
"""

from __future__ import annotations

import argparse
import datetime as dt
import itertools
import json
import os
import platform
import sys
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import psycopg
from psycopg.types.json import Jsonb

from bench.stack import BenchDatabase, OneConnection, api_event, bench_database, quiet_request_logs
from bench.timing import Samples, interleaved
from bench.wire import CountingProxy, Turn
from infra.local import postgres
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import CENTRALE, GROUP_IO, USER, DroppedMail, start_demo_session
from tenancy import gate
from tenancy.bindings import BindingKey, Bindings
from tenancy.catalogue import discover
from tenancy.db import GateConnection, connect
from tenancy.gate import Route
from tenancy.permissions import Role
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import StaticKeySource, TokenVerifier

ROOT = Path(__file__).resolve().parents[1]
#: People attached to centrale during the run (the seed has 3): a busy venue's list.
ATTACHED = 30
#: Open invitations at centrale during the run (the seed has none there).
INVITED = 5
#: The caller of the venue routes: a regional manager (MANAGE_STAFF at centrale).
CALLER = USER["regional"]
ADMIN = USER["platform_admin"]
RATIO_TARGET = 1.5
TRIPS_READ, TRIPS_WRITE = 1, 2
WARMUP, PAIRS = 300, 3000

_BIND_SESSION = Bindings.SQL.replace("true)", "false)")
_UNBIND = "RESET app.venue_id; RESET app.user_id; RESET app.session_id; RESET app.binding"


def _progress(message: str) -> None:
    print(f"[bench.people] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def _new_account(admin: psycopg.Connection, name: str) -> tuple[uuid.UUID, str]:
    user_id = uuid.uuid4()
    email = f"bench-{user_id.hex[:12]}@io-osteria.example"
    admin.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, %s)",
        (user_id, email, name),
    )
    return user_id, email


def top_up(admin_url: str, attached: int, invited: int = INVITED) -> None:
    """Exactly ``attached`` people at centrale, attached the way the route attaches, and
    ``invited`` open invitations, made the way the route invites (their mail dropped)."""
    from staff.logic import PLATFORM, attach
    from tenancy.invitations import Invitations

    invitations = Invitations(DroppedMail(), issuer_url=LOCAL_ISSUER)
    with psycopg.connect(admin_url) as admin:
        row = admin.execute(
            "SELECT count(*) FROM venue_invitations WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()
        for number in range(int(row[0]) if row else 0, invited):
            attach(
                admin,
                venue_id=CENTRALE,
                email=f"bench-invited-{number:03d}@io-osteria.example",
                role=Role.WAITER,
                permissions=None,
                actor=PLATFORM,
                invitations=lambda: invitations,
            )
        row = admin.execute(
            "SELECT count(*) FROM venue_attachments WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()
        have = int(row[0]) if row else 0
        roles = itertools.cycle([Role.WAITER, Role.CHEF, Role.CASUAL, Role.WAITER, Role.MANAGER])
        for number in range(have, attached):
            _, email = _new_account(admin, f"Bench person {number:03d}")
            attach(
                admin,
                venue_id=CENTRALE,
                email=email,
                role=next(roles),
                permissions=None,
                actor=PLATFORM,
            )


@dataclass(frozen=True)
class Latency:
    gate: Samples
    bare: Samples
    #: The gate's statements and the list's, pipelined in one trip, with no Python gate:
    #: what the database alone asks of a gated request.
    statements: Samples
    #: B without the invitations' half (``staff.queries.ATTACHED_ONLY``).
    accounts: Samples

    @property
    def ratio(self) -> float:
        return self.gate.median / self.bare.median


@dataclass(frozen=True)
class TripCount:
    label: str
    turns: list[Turn]
    stable: bool
    reads_only: bool


class PeopleBench:
    """The gate as a warm Lambda container holds it: one runtime-role connection, a
    verifier with the signing key's public half, the real route declarations."""

    def __init__(self, database: postgres.Database) -> None:
        self.database = database
        self.binding_key = BindingKey.from_setting(database.binding_key)
        self.key = SigningKey.generate()
        self.verifier = TokenVerifier(
            issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(self.key.jwks())
        )
        self.session_id, self.token = self._token(CALLER.id)
        _, self.admin_token = self._token(ADMIN.id)
        self.routes: dict[str, Route] = {
            d.spec.route_key: d.route for d in discover(ROOT / "functions")
        }
        from staff.queries import ATTACHED_ONLY, ATTACHMENTS
        from tenancy.permissions import FLAG_PARAMS

        self.bare_sql = ATTACHMENTS
        self.accounts_only_sql = ATTACHED_ONLY
        self.bare_params = {"venue": CENTRALE, **FLAG_PARAMS}

    def _token(self, user_id: uuid.UUID) -> tuple[uuid.UUID, str]:
        session_id, amr = start_demo_session(self.database.admin_url, user_id)
        token = self.key.access_token(
            user_id, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, sid=str(session_id), amr=amr
        )
        return session_id, token

    def _runtime(self, conn: GateConnection) -> Runtime:
        return Runtime(
            databases={DbRole.VENUE: OneConnection(conn)},
            verifier=self.verifier,
            binding_key=self.binding_key,
        )

    def _call(
        self,
        runtime: Runtime,
        method: str,
        template: str,
        path: dict[str, str] | None = None,
        body: Any = None,
        *,
        token: str | None = None,
    ) -> dict[str, Any]:
        route = self.routes[f"{method} {template}"]
        event = api_event(
            method,
            template,
            path or {},
            token or self.token,
            body=None if body is None else json.dumps(body),
        )
        response = route.invoke(event, runtime)
        if response["statusCode"] >= 300:
            raise RuntimeError(f"{method} {template} answered {response}")
        return response

    # --- 1. the attachments list against its bare SQL -------------------------------------

    def latency(self, *, warmup: int, pairs: int) -> tuple[Latency, int]:
        conn = connect(self.database.venue_url)
        try:
            runtime = self._runtime(conn)
            template = "/venues/{venue_id}/attachments"
            route = self.routes[f"GET {template}"]
            event = api_event("GET", template, {"venue_id": str(CENTRALE)}, self.token)
            listed = json.loads(
                self._call(runtime, "GET", template, {"venue_id": str(CENTRALE)})["body"]
            )["attachments"]
            bindings = self.binding_key.bind(
                user_id=CALLER.id,
                session_id=self.session_id,
                venue_id=CENTRALE,
                mfa=False,
                now=time.time() + 3600,
            )
            conn.execute(_BIND_SESSION, bindings.as_params())
            sql, params = self.bare_sql, self.bare_params

            def bare() -> list[tuple[Any, ...]]:
                return conn.execute(sql, params).fetchall()

            if len(json.loads(bare()[0][0])["attachments"]) != len(listed):
                raise RuntimeError("the bare query and the route disagree")

            def statements() -> object:
                fresh = self.binding_key.bind(
                    user_id=CALLER.id, session_id=self.session_id, venue_id=CENTRALE, mfa=False
                )
                with conn.pipeline():
                    conn.execute("BEGIN")
                    # The gate's statement sets the signed bindings itself (0020).
                    conn.execute(
                        gate._VENUE_GATE,
                        {**fresh.as_named(), "event": uuid.uuid4(), "details": Jsonb({})},
                    )
                    cursor = conn.execute(sql, params)
                    conn.execute("COMMIT")
                return cursor.fetchall()

            accounts_only = self.accounts_only_sql

            def accounts() -> list[tuple[Any, ...]]:
                return conn.execute(accounts_only, params).fetchall()

            gated, plain, together, alone = interleaved(
                [
                    ("gated", lambda: route.invoke(event, runtime)),
                    ("bare", bare),
                    ("statements", statements),
                    ("accounts", accounts),
                ],
                warmup=warmup,
                iterations=pairs,
            )
            conn.execute(_UNBIND)
            return Latency(gated, plain, together, alone), len(listed)
        finally:
            conn.close()

    # --- 2. round trips of every people route ---------------------------------------------

    def round_trips(self, captures: int = 3) -> list[TripCount]:
        proxy = CountingProxy(self.database.venue_url)
        conn = connect(proxy.conninfo())
        try:
            return self._round_trips(proxy, self._runtime(conn), captures)
        finally:
            conn.close()
            proxy.close()

    def _round_trips(
        self, proxy: CountingProxy, runtime: Runtime, captures: int
    ) -> list[TripCount]:
        venue = {"venue_id": str(CENTRALE)}
        with psycopg.connect(self.database.admin_url, autocommit=True) as admin:
            newcomers = iter([_new_account(admin, "Newcomer")[1] for _ in range(8)])
            leavers = []
            for _ in range(8):
                user_id, _ = _new_account(admin, "Leaver")
                admin.execute(
                    "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
                    " VALUES (%s, %s, 'waiter', 3)",
                    (CENTRALE, user_id),
                )
                leavers.append(user_id)
            changed, _ = _new_account(admin, "Changed")
            admin.execute(
                "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
                " VALUES (%s, %s, 'waiter', 3)",
                (CENTRALE, changed),
            )
            target, _ = _new_account(admin, "Disabled now and then")
        staff_id = json.loads(
            self._call(
                runtime,
                "POST",
                "/venues/{venue_id}/staff",
                venue,
                {"display_name": "Bench", "role": "waiter"},
            )["body"]
        )["id"]
        leaving = iter(leavers)
        roles = itertools.cycle(["chef", "waiter"])
        names = (f"Bench {n}" for n in itertools.count())
        flips = itertools.cycle([True, False])
        groups = (f"Bench group {n}" for n in itertools.count())

        def count(label: str, call: Callable[[], object]) -> TripCount:
            call(), call()
            seen: list[list[Turn]] = []
            for _ in range(captures):
                proxy.reset()
                call()
                seen.append(proxy.turns())
            method = label.split()[0]
            return TripCount(label, seen[-1], len({len(t) for t in seen}) == 1, method == "GET")

        c = self._call
        attachment = "/venues/{venue_id}/attachments/{user_id}"
        return [
            count(
                "GET /venues/{id}/attachments",
                lambda: c(runtime, "GET", "/venues/{venue_id}/attachments", venue),
            ),
            count(
                "POST /venues/{id}/attachments",
                lambda: c(
                    runtime,
                    "POST",
                    "/venues/{venue_id}/attachments",
                    venue,
                    {"email": next(newcomers), "role": "waiter"},
                ),
            ),
            count(
                "PATCH /venues/{id}/attachments/{user}",
                lambda: c(
                    runtime,
                    "PATCH",
                    attachment,
                    {**venue, "user_id": str(changed)},
                    {"role": next(roles)},
                ),
            ),
            count(
                "DELETE /venues/{id}/attachments/{user}",
                lambda: c(runtime, "DELETE", attachment, {**venue, "user_id": str(next(leaving))}),
            ),
            count(
                "GET /venues/{id}/staff",
                lambda: c(runtime, "GET", "/venues/{venue_id}/staff", venue),
            ),
            count(
                "POST /venues/{id}/staff",
                lambda: c(
                    runtime,
                    "POST",
                    "/venues/{venue_id}/staff",
                    venue,
                    {"display_name": next(names), "role": "waiter"},
                ),
            ),
            count(
                "PATCH /venues/{id}/staff/{staff}",
                lambda: c(
                    runtime,
                    "PATCH",
                    "/venues/{venue_id}/staff/{staff_id}",
                    {**venue, "staff_id": staff_id},
                    {"display_name": next(names)},
                ),
            ),
            count("GET /roles", lambda: c(runtime, "GET", "/roles")),
            count("GET /me/venues", lambda: c(runtime, "GET", "/me/venues")),
            count(
                "PUT /me/current-venue",
                lambda: c(runtime, "PUT", "/me/current-venue", body={"venue_id": str(CENTRALE)}),
            ),
            count(
                "GET /platform/venues",
                lambda: c(runtime, "GET", "/platform/venues", token=self.admin_token),
            ),
            count(
                "GET /platform/users",
                lambda: c(runtime, "GET", "/platform/users", token=self.admin_token),
            ),
            count(
                "POST /platform/venue-groups",
                lambda: c(
                    runtime,
                    "POST",
                    "/platform/venue-groups",
                    body={"name": next(groups)},
                    token=self.admin_token,
                ),
            ),
            count(
                "POST /platform/venues",
                lambda: c(
                    runtime,
                    "POST",
                    "/platform/venues",
                    body={
                        "group_id": str(GROUP_IO),
                        "name": "Bench venue",
                        "slug": f"bench-{uuid.uuid4().hex[:12]}",
                        "owner_email": CALLER.email,
                    },
                    token=self.admin_token,
                ),
            ),
            count(
                "PATCH /platform/users/{user}",
                lambda: c(
                    runtime,
                    "PATCH",
                    "/platform/users/{user_id}",
                    {"user_id": str(target)},
                    {"disabled": next(flips)},
                    token=self.admin_token,
                ),
            ),
        ]


def _report(db: BenchDatabase, latency: Latency, listed: int, counts: list[TripCount]) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("People routes: what the gate costs")
    print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(
        f"  machine   {cores} cores, {platform.system()}, {platform.python_implementation()}"
        f" {platform.python_version()}"
    )
    print(f"  postgres  {db.server_version}, {db.origin}")
    print()
    print(f"1. GET /venues/{{centrale}}/attachments, {listed} listed, warm, in-process")
    print(f"   {'':44} {'median':>11} {'p90':>11}")
    for label, samples in (
        ("A  the full gate: Route.invoke(event)", latency.gate),
        ("B  bare SQL: ATTACHMENTS + fetchall", latency.bare),
    ):
        print(f"   {label:<44} {_ms(samples.median)} {_ms(samples.p90)}")
    verdict = "PASS" if latency.ratio <= RATIO_TARGET else "MISS"
    print(f"   ratio A / B {latency.ratio:6.2f}   target <= {RATIO_TARGET}   {verdict}")
    together = latency.statements.median
    print(
        f"   C  B with the gate's statements, one trip     {_ms(together)}"
        f" {_ms(latency.statements.p90)}"
    )
    print(
        f"      C / B {together / latency.bare.median:5.2f}: the database's share;"
        f" A - C {(latency.gate.median - together) * 1000:.3f} ms: the gate's Python"
        " (event, inputs, decision, log line)"
    )
    alone = latency.accounts.median
    print(
        f"   D  B without the invitations' half             {_ms(alone)}"
        f" {_ms(latency.accounts.p90)}"
    )
    print(f"      B / D {latency.bare.median / alone:5.2f}: what listing the invitations adds")
    print()
    print("2. Database round trips per request (loopback proxy; reads 1, writes 2)")
    for count in counts:
        trips = len(count.turns)
        target = TRIPS_READ if count.reads_only else TRIPS_WRITE
        stable = "" if count.stable else "  (varied)"
        verdict = "PASS" if trips <= target else "MISS"
        print(f"   {count.label:<40} {trips}  target <= {target}   {verdict}{stable}")
        for number, turn in enumerate(count.turns, 1):
            print(f"      {number}. {turn.carries()}")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="What the gate costs the people routes")
    parser.add_argument("--pairs", type=int, default=PAIRS)
    args = parser.parse_args(argv)
    started = time.perf_counter()
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        _progress("starting Postgres, migrating and seeding a fresh database")
        with bench_database() as db:
            top_up(db.database.admin_url, ATTACHED)
            bench = PeopleBench(db.database)
            _progress(f"timing the attachments list against its bare SQL ({args.pairs} pairs)")
            latency, listed = bench.latency(warmup=min(WARMUP, args.pairs), pairs=args.pairs)
            _progress("counting round trips")
            counts = bench.round_trips()
        _report(db, latency, listed, counts)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
