"""`make bench`: what the request gate costs, as ratios measured side by side in one run.

It reports and never fails on a miss: timings belong in a dated record (docs/benchmarks.md),
not in assertions. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench import binding_cost, sign_in
from bench.binding_cost import LOOP_CALLS, BindingCost
from bench.gate_cost import (
    BARE,
    BOUND,
    CALLER,
    GATE_ALONE,
    INPUTS,
    LOG,
    MODEL,
    REQUEST_DB,
    RESPONSE,
    TRIP,
    VERIFY,
    VERIFY_UNCACHED,
    WHOLE,
    GateBench,
    Latency,
    ScaleCase,
    ServerTime,
)
from bench.imports import (
    BASELINE,
    FLOOR,
    MODELS,
    Timing,
    added_packages,
    cold_starts,
    first_request_imports,
    handler_modules,
    measure,
    python_c,
)
from bench.routes import CHECK, TripCount, count_every_route
from bench.stack import ORDERS, BenchDatabase, bench_database, quiet_request_logs

GATE_TARGET = 1.5
GATE_AIM = 1.2
IMPORT_TARGET = 1.5
VERIFY_TARGET = 0.10
#: Scale: the gated/bare ratio at the larger size over the ratio at the smaller: it must not
#: grow with the data (10 % allowed for noise).
GROWTH_TARGET = 1.10

LATENCY_WARMUP = 300
LATENCY_PAIRS = 1000
LATENCY_RUNS = 3
PART_ROUNDS = 1000
SCALE_WARMUP = 50
SCALE_ROUNDS = 400
BINDING_WARMUP = 50
BINDING_ROUNDS = 500
EXPLAIN_ROUNDS = 100
IMPORT_RUNS = 7
#: The handler whose cold start stands for "the cold first request".
COLD_MODULE = "orders.list_orders"


@dataclass(frozen=True)
class Figure:
    """One line of the summary: a measured value against its target (lower is better);
    without a target it is shown for information."""

    name: str
    value: float
    target: float | None
    shown: str = ""
    target_shown: str = ""
    #: The target is a strict bound (< rather than <=).
    strict: bool = False

    @property
    def verdict(self) -> str:
        if self.target is None:
            return "info"
        within = self.value < self.target if self.strict else self.value <= self.target
        return "PASS" if within else "MISS"


@dataclass(frozen=True)
class Imports:
    times: dict[str, Timing]
    modules: list[str]
    served: list[str]
    imports_only: list[str]
    slowest: str
    added: list[tuple[str, float]]
    #: What the first request of a cold start imports: (total, by package), per module.
    first_imports: dict[str, tuple[float, list[tuple[str, float]]]]


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


def _verdict(value: float, target: float, *, strict: bool = False) -> str:
    return "PASS" if (value < target if strict else value <= target) else "MISS"


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def _header(db: BenchDatabase) -> None:
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    print("Venue backend benchmarks")
    print(f"  date      {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC")
    print(f"  machine   {cores} cores (nproc), {_cpu_model()}, {platform.system()}")
    print(f"  python    {platform.python_implementation()} {platform.python_version()}")
    print(f"  postgres  {db.server_version}, {db.origin}, database {db.database.name}")
    print(f"  load      {_load()} (1, 5, 15 min) at the start: other work shares the machine")
    print()


def _load() -> str:
    try:
        return ", ".join(f"{load:.2f}" for load in os.getloadavg())
    except OSError:
        return "unknown"


# --- 1. gate overhead ---------------------------------------------------------------------


def _latency_section(latency: Latency, server: list[ServerTime], get_trips: int) -> list[Figure]:
    print(f"1. Gate overhead: GET /venues/{{centrale}}/orders, {ORDERS} orders, warm, in-process")
    print(
        f"   one venue-role (app_venue) connection shared by A and B; {LATENCY_RUNS} runs of"
        f" {LATENCY_PAIRS} interleaved pairs\n   (A B A B ...), after {LATENCY_WARMUP} warm-up"
        f" pairs ({LATENCY_WARMUP // 3} before each later run)"
    )
    print(f"   {'':44} {'median':>11} {'p90':>11}")
    for number, (gated, bare) in enumerate(latency.runs, 1):
        print(
            f"   run {number}  A  the full gate: Route.invoke(event) {_ms(gated.median)}"
            f" {_ms(gated.p90)}"
        )
        print(f"          B  bare SQL: ORDER_QUEUE + Sync      {_ms(bare.median)} {_ms(bare.p90)}")
        print(
            f"          ratio A / B {'':24} {gated.median / bare.median:8.2f}   "
            f" {gated.p90 / bare.p90:8.2f}"
        )
    print("   B runs as the venue role (row-level security on), the venue bound for the session")
    print("   beforehand with a genuine signed binding; the query alone, in its own implicit")
    print("   transaction: one round trip (Parse, Bind, Describe, Execute, Sync).")
    ratios = latency.ratios()
    ratio = latency.ratio
    print(
        f"   ratio A / B, medians: {'  '.join(f'{r:.2f}' for r in ratios)}   median {ratio:.2f},"
        f" spread {latency.spread:.2f} ({latency.spread / ratio:.0%} of it)"
    )
    print(f"   ratio A / B, p90s:    {'  '.join(f'{r:.2f}' for r in latency.p90_ratios())}")
    print(
        f"   target <= {GATE_TARGET} (aim {GATE_AIM})   {_verdict(ratio, GATE_TARGET)}"
        f"{'' if ratio <= GATE_AIM else f', above the aim of {GATE_AIM}'}"
    )
    print()
    whole = latency.part(WHOLE)
    print(f"   The parts of a gated request, {PART_ROUNDS} rounds, each timed alone, side by side:")
    for samples in latency.parts:
        print(f"      {samples.label:<48} {_ms(samples.median)} {samples.median / whole:7.1%}")
    data, bound, request_db = latency.part(BARE), latency.part(BOUND), latency.part(REQUEST_DB)
    more = max(get_trips - 1, 0)
    accounted: list[tuple[str, float]] = [
        ("the data: bare SQL, its own round trip", data),
        ("the signed bindings (set_config), in that trip", bound - data),
        ("the gate's standing read and decision, same trip", request_db - bound),
        (f"{more} more round trip(s), at one trivial trip each", more * latency.part(TRIP)),
        ("token verification, cached", latency.part(VERIFY)),
        ("reading the event", latency.part(INPUTS)),
        ("response (the JsonDocument as the body)", latency.part(RESPONSE)),
        ("log line", latency.part(LOG)),
    ]
    accounted.append(
        (
            "rest, by difference (gate glue, runtime, context)",
            whole - sum(seconds for _, seconds in accounted),
        )
    )
    print("   Accounting for the whole:")
    for label, seconds in accounted:
        print(f"      {label:<48} {_ms(seconds)} {seconds / whole:7.1%}")
    print(
        f"   (not in the request: {MODEL.split(' (')[0]}, {_ms(latency.part(MODEL)).strip()},"
        f" and the gate's statements\n   alone, {_ms(latency.part(GATE_ALONE)).strip()},"
        " for reference)"
    )
    print(
        f"   In Postgres, EXPLAIN (ANALYZE, SUMMARY) as the venue role, bound, median of"
        f" {EXPLAIN_ROUNDS}:\n   (each statement sent is planned anew: no server-side prepared"
        " statements; app.venue_gate's\n   own statements are planned once per session by"
        " PL/pgSQL, their time is in its execution)"
    )
    for statement in server:
        print(
            f"      {statement.label:<44} planning {_ms(statement.planning)}"
            f"  execution {_ms(statement.execution)}"
        )
    print()
    return [
        Figure(
            "gate overhead, GET orders (A / B), median of 3",
            ratio,
            GATE_TARGET,
            target_shown=f"<= {GATE_TARGET}",
        ),
        Figure("  the 3 ratios' spread (max - min)", latency.spread, None, f"{latency.spread:.2f}"),
        Figure(
            "  A / B at p90, median of 3",
            statistics.median(latency.p90_ratios()),
            None,
        ),
    ]


# --- 2. token verification ---------------------------------------------------------------


def _verification_section(latency: Latency, imports: Imports) -> list[Figure]:
    whole = latency.part(WHOLE)
    cached, uncached = latency.part(VERIFY), latency.part(VERIFY_UNCACHED)
    share, uncached_share = cached / whole, uncached / whole
    print("2. Token verification (TokenVerifier: verified tokens cached per SHA-256, <= 60 s)")
    print(
        f"   warm request, token cached                     {_ms(cached)} {share:7.1%}"
        " of the gated request"
    )
    print(
        f"   token not cached (ES256 signature and claims)  {_ms(uncached)}"
        f" {uncached_share:7.1%} of it"
    )
    print(
        f"   JWT verification / a warm request {share:6.1%}   target < 10%"
        f"   {_verdict(share, VERIFY_TARGET, strict=True)}"
    )
    figures = [
        Figure(
            "JWT verification / warm request (cached)",
            share,
            VERIFY_TARGET,
            f"{share:.1%}",
            "< 10%",
            strict=True,
        ),
        Figure("  the same, token not cached", uncached_share, None, f"{uncached_share:.1%}"),
    ]
    cold = imports.times.get(f"serve {COLD_MODULE}")
    if cold is not None and cold.reports:
        first = cold.reported("first_request")
        verify, connect = cold.reported("verify"), cold.reported("connect")
        print(
            f"   the cold first request: `serve {COLD_MODULE}`, a fresh interpreter (a new"
            " TokenVerifier,\n   a new connection, the first request of the process), medians"
            f" of {IMPORT_RUNS} runs (section 6):"
        )
        rows = [
            ("first request, after the import", first),
            ("token verification (imports PyJWT, reads JWKS)", verify),
            ("opening the connection", connect),
            ("the rest (runtime, gate, query, response, log)", first - verify - connect),
        ]
        for label, seconds in rows:
            print(f"      {label:<48} {_ms(seconds)} {seconds / first:7.1%}")
        figures.append(
            Figure(
                "  JWT verification / cold first request",
                verify / first,
                None,
                f"{verify / first:.1%}",
            )
        )
    print()
    return figures


# --- 3. round trips ------------------------------------------------------------------------


def _trips_section(counts: list[TripCount], unknown: list[str]) -> list[Figure]:
    print("3. Database round trips of every declared route, counted at a loopback TCP proxy")
    print("   a round trip = a client burst the server answers; message types: P parse, B bind,")
    print("   D describe, E execute, S sync, H flush, Q simple query. binding_allows: calls of")
    print("   app.binding_allows in the request, counted by Postgres (track_functions).")
    figures = []
    for count in counts:
        trips = len(count.turns)
        noun = "round trip" if trips == 1 else "round trips"
        if count.target is None:
            target, verdict = "", ""
        else:
            target = f"target {'<=' if count.target > 1 else '='} {count.target}"
            if count.label == CHECK:
                verdict = "ok" if trips == count.target else "COUNTER WRONG"
            else:
                verdict = _verdict(trips, count.target)
        calls = "" if count.binding_calls is None else f"binding_allows {count.binding_calls}"
        stable = "" if count.stable else "  (varied between requests)"
        print(f"   {count.label:<46} {trips} {noun:<11} {target:<13} {verdict:<5} {calls}{stable}")
        for number, turn in enumerate(count.turns, 1):
            print(f"      {number}. {turn.carries()}")
            print(f"         sent [{turn.messages()}]  <- {turn.answer()}")
        if count.target is not None and count.label != CHECK:
            figures.append(
                Figure(
                    f"round trips, {count.label}",
                    trips,
                    count.target,
                    str(trips),
                    f"{'<=' if count.target > 1 else '='} {count.target}",
                )
            )
    for key in unknown:
        print(f"   {key:<49} not called: the bench knows no valid request for it (bench/routes.py)")
    print()
    return figures


# --- 4. scale -------------------------------------------------------------------------------


def _scale_section(pairs: list[tuple[ScaleCase, ScaleCase]]) -> list[Figure]:
    print(
        "4. Scale: the gated / bare ratio of the same read as the data grows; all 8 candidates"
        f"\n   in one interleaved loop, {SCALE_ROUNDS} rounds after {SCALE_WARMUP}; gated and"
        " bare of a size share a connection"
    )
    print(f"   {'':40} {'gated':>11} {'bare':>11} {'ratio':>7}")
    figures = []
    for small, large in pairs:
        for case in (small, large):
            print(
                f"   {case.label:<40} {_ms(case.gated.median)} {_ms(case.bare.median)}"
                f" {case.ratio:7.2f}"
            )
        # The target: the ratio must not grow with the data (10 % allowed for noise). A ratio
        # that falls means the gate's cost stays flat while the read grows, which is the aim.
        growth = large.ratio / small.ratio
        print(
            f"   side by side: {small.ratio:.2f} and {large.ratio:.2f}; the larger size's ratio"
            f" / the smaller's {growth:.2f}   rule: <= {GROWTH_TARGET}"
            f"   {_verdict(growth, GROWTH_TARGET)}"
        )
        added = [case.gated.median - case.bare.median for case in (small, large)]
        print(f"   gated - bare: {_ms(added[0]).strip()} and {_ms(added[1]).strip()}")
        route = small.label.split(",")[0]
        figures.append(
            Figure(
                f"scale, {route}: larger size's ratio / smaller's",
                growth,
                GROWTH_TARGET,
                f"{growth:.2f}",
                f"<= {GROWTH_TARGET}",
            )
        )
    print(
        "   bare: the handler's query alone (VENUE_CHOICES, ORDER_QUEUE) + Sync, bound for the"
        "\n   session as the same caller; the orders page is the default 50 at both sizes."
    )
    print()
    return figures


# --- 5. the signed bindings ----------------------------------------------------------------


def _binding_section(cost: BindingCost, latency: Latency, counts: list[TripCount]) -> list[Figure]:
    print("5. The signed bindings: app.binding_allows(0), as app_venue, genuinely bound")
    print(f"   {BINDING_ROUNDS} rounds after {BINDING_WARMUP}, interleaved, one connection:")
    rows = [
        ("SELECT 1, one round trip", cost.trivial.median),
        ("SELECT app.binding_allows(0), one round trip", cost.call.median),
        (f"{LOOP_CALLS} calls in one statement", cost.loop.median),
        (f"the same {LOOP_CALLS} rows without the call", cost.loop_floor.median),
    ]
    for label, seconds in rows:
        print(f"      {label:<48} {_ms(seconds)}")
    by_trip, in_loop = cost.per_call_by_trip, cost.per_call_in_loop
    print(f"   one call, by round-trip difference             {_ms(by_trip)}")
    print(f"   one call, within a statement ({LOOP_CALLS} calls)        {_ms(in_loop)}")
    orders = next((c for c in counts if c.route_key == "GET /venues/{venue_id}/orders"), None)
    calls = None if orders is None else orders.binding_calls
    whole = statistics.median(gated.median for gated, _ in latency.runs)
    figures: list[Figure] = []
    if calls is None:
        print("   calls per gated GET orders request: not counted (needs Postgres 15 or later)")
    else:
        share = calls * by_trip / whole
        print(
            f"   calls per gated GET orders request (counted by Postgres): {calls}\n"
            f"   share of the gated request ({_ms(whole).strip()}, section 1's A):"
            f" {calls} x {_ms(by_trip).strip()} = {share:.1%}"
            f" (within a statement: {calls * in_loop / whole:.1%})"
        )
        figures.append(Figure("binding_allows / gated GET orders", share, None, f"{share:.1%}"))
    print()
    return figures


# --- 6. import time and cold starts ----------------------------------------------------------


def _measure_imports(bench: GateBench) -> Imports:
    modules = handler_modules()
    with tempfile.TemporaryDirectory(prefix="venue-bench-pycache-") as scratch:
        jwks = Path(scratch) / "jwks.json"
        jwks.write_text(json.dumps(bench.signing_key.jwks()))
        served, imports_only = cold_starts(bench, jwks)
        commands = [
            python_c(FLOOR),
            python_c(BASELINE),
            python_c(MODELS),
            *(python_c(f"import {module}") for module in modules),
            *served,
        ]
        _progress(
            f"import times and cold starts: {len(commands)} commands x {IMPORT_RUNS + 1}"
            " fresh interpreters"
        )
        pycache = Path(scratch) / "pycache"
        times = {t.label: t for t in measure(commands, pycache, runs=IMPORT_RUNS)}
        slowest = max(modules, key=lambda module: times[f"import {module}"].median)
        added = added_packages(slowest, pycache)
        slowest_served = max(served, key=lambda command: times[command.label].median)
        first_imports = {
            command.label.removeprefix("serve "): first_request_imports(command, pycache)
            for command in served
            if command is slowest_served or command.label == f"serve {COLD_MODULE}"
        }
    return Imports(
        times,
        modules,
        [command.label.removeprefix("serve ") for command in served],
        imports_only,
        slowest,
        added,
        first_imports,
    )


def _imports_section(imports: Imports) -> list[Figure]:
    times = imports.times
    baseline, fastest = times[BASELINE].median, times[BASELINE].fastest
    print(
        f"6. Import time and cold start: fresh interpreters, median of {IMPORT_RUNS} after 1"
        " untimed run,\n   bytecode cached, every command in turn within a run; 'fastest':"
        " the fastest run over the\n   baseline's fastest, for reading a run the machine's"
        " other work disturbed"
    )
    print(f"   {'python -c':<60} {'median':>11} {'/ baseline':>10} {'fastest':>8}")
    for code, note in ((FLOOR, "(floor)"), (BASELINE, "(baseline)"), (MODELS, "(reference)")):
        timing = times[code]
        print(
            f"   {code + '  ' + note:<60} {_ms(timing.median)} {timing.median / baseline:9.2f}x"
            f" {timing.fastest / fastest:7.2f}x"
        )
    figures = []
    for module in imports.modules:
        timing = times[f"import {module}"]
        ratio = timing.median / baseline
        print(
            f"   {'import ' + module:<60} {_ms(timing.median)} {ratio:9.2f}x"
            f" {timing.fastest / fastest:7.2f}x   {_verdict(ratio, IMPORT_TARGET)}"
        )
        figures.append(
            Figure(f"import {module} / baseline", ratio, IMPORT_TARGET, "", f"<= {IMPORT_TARGET}")
        )
    print(
        f"   what the slowest, `import {imports.slowest}`, loads beyond the baseline, by package"
        "\n   (-X importtime self times, one run):"
    )
    for package, seconds in imports.added:
        print(f"      {package:<28} {seconds * 1000:7.1f} ms")
    print()
    print(
        "   Import plus the first request: `python -m bench.cold_start <module>` imports the"
        "\n   handler and serves one valid request against the bench database, with the runtime"
        "\n   built from the environment as in AWS (its own split: import | first request)"
    )
    print(
        f"   {'python -m bench.cold_start':<35} {'median':>11} {'/ baseline':>10}"
        f" {'fastest':>8} {'import':>9} {'request':>9}"
    )
    for module in imports.served:
        timing = times[f"serve {module}"]
        ratio = timing.median / baseline
        print(
            f"   {module:<35} {_ms(timing.median)} {ratio:9.2f}x"
            f" {timing.fastest / fastest:7.2f}x"
            f" {timing.reported('import') * 1000:6.1f} ms"
            f" {timing.reported('first_request') * 1000:6.1f} ms"
            f"   {_verdict(ratio, IMPORT_TARGET)}"
        )
        figures.append(
            Figure(
                f"import + first request {module} / baseline",
                ratio,
                IMPORT_TARGET,
                "",
                f"<= {IMPORT_TARGET}",
            )
        )
    print("   imports only (their request needs an AWS call, or state made anew for each run):")
    print("      " + ", ".join(imports.imports_only))
    for module, (total, packages) in imports.first_imports.items():
        print(
            f"   what the first request of `{module}` imports, by package"
            f" (-X importtime self times,\n   one run; {total * 1000:.1f} ms in all):"
        )
        for package, seconds in packages:
            print(f"      {package:<28} {seconds * 1000:7.1f} ms")
    print()
    return figures


def _summary(figures: list[Figure]) -> None:
    print("Summary (lower is better; a MISS is reported, never fatal; info: no target)")
    print(f"   {'measure':<58} {'value':>7}  {'target':>8}  result")
    for figure in figures:
        value = figure.shown or f"{figure.value:.2f}"
        if not figure.shown and figure.target is not None and value == f"{figure.target:.2f}":
            value = f"{figure.value:.3f}"  # rounded, it would read as on the target
        print(f"   {figure.name:<58} {value:>7}  {figure.target_shown:>8}  {figure.verdict}")


def main() -> None:
    started = time.perf_counter()
    # pgserver's note about XDG_RUNTIME_DIR on machines without a login session (as in tests).
    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        _progress("starting Postgres, migrating and seeding a fresh database")
        with bench_database() as db:
            _header(db)
            bench = GateBench(db.database)
            _progress("counting the round trips of every route")
            counts, unknown = count_every_route(bench)
            _progress(f"timing the gate against the bare SQL ({LATENCY_RUNS} runs), then its parts")
            latency = bench.latency(
                warmup=LATENCY_WARMUP,
                pairs=LATENCY_PAIRS,
                runs=LATENCY_RUNS,
                part_rounds=PART_ROUNDS,
            )
            server = bench.server_side(rounds=EXPLAIN_ROUNDS)
            _progress("timing the same reads at two sizes of the data")
            scale = bench.scale(warmup=SCALE_WARMUP, rounds=SCALE_ROUNDS)
            _progress("timing app.binding_allows")
            binding = binding_cost.measure(bench, warmup=BINDING_WARMUP, rounds=BINDING_ROUNDS)
            _progress("timing sign-ins")
            sign_in_cost = sign_in.measure(db.database.issuer_url)
            imports = _measure_imports(bench)
        orders = next(c for c in counts if c.route_key == "GET /venues/{venue_id}/orders")
        figures = _latency_section(latency, server, len(orders.turns))
        figures += _verification_section(latency, imports)
        figures += _trips_section(counts, unknown)
        figures += _scale_section(scale)
        figures += _binding_section(binding, latency, counts)
        figures += _imports_section(imports)
        sign_in.report(sign_in_cost)
        _summary(figures)
    print(
        f"\n(run took {time.perf_counter() - started:.0f} s; load at the end {_load()};"
        f" caller: {CALLER.name})"
    )


if __name__ == "__main__":
    main()
