"""`make bench`: what the request gate costs, as ratios measured side by side in one run.

It reports and never fails on a miss: timings belong in a dated record (docs/benchmarks.md),
not in assertions. Progress goes to stderr, the report to stdout.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import sys
import tempfile
import time
import warnings
from dataclasses import dataclass
from pathlib import Path

from bench import sign_in
from bench.gate_cost import (
    BARE,
    CALLER,
    GATE_SQL,
    LOG,
    MODEL,
    TRIP,
    VERIFY,
    WHOLE,
    GateBench,
    Latency,
    TripCount,
)
from bench.imports import BASELINE, FLOOR, MODELS, added_packages, handler_modules, measure
from bench.stack import ORDERS, BenchDatabase, bench_database, quiet_request_logs

GATE_TARGET = 1.5
TRIPS_TARGET = 2
IMPORT_TARGET = 1.5
VERIFY_TARGET = 0.10

LATENCY_WARMUP = 300
LATENCY_PAIRS = 3000
PART_ROUNDS = 1000
IMPORT_RUNS = 7


@dataclass(frozen=True)
class Figure:
    """One line of the summary: a measured value against its target (lower is better)."""

    name: str
    value: float
    target: float
    shown: str

    @property
    def verdict(self) -> str:
        return "PASS" if self.value <= self.target else "MISS"


def _progress(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:8.3f} ms"


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
    print()


def _latency_section(latency: Latency, get_trips: int) -> list[Figure]:
    print(f"1. Gate overhead: GET /venues/{{centrale}}/orders, {ORDERS} orders, warm, in-process")
    print(
        f"   one runtime-role connection shared by A and B; {LATENCY_PAIRS} interleaved\n"
        f"   pairs (A B A B ...) after {LATENCY_WARMUP} warm-up pairs"
    )
    print(f"   {'':44} {'median':>11} {'p90':>11}")
    rows = [
        ("A  the full gate: Route.invoke(event)", latency.gate),
        ("B  bare SQL: ORDER_QUEUE + fetchall", latency.bare),
    ]
    for label, samples in rows:
        print(f"   {label:<44} {_ms(samples.median)} {_ms(samples.p90)}")
    print("      B runs as the runtime role (row-level security on), venue bound for the session")
    print("      beforehand, the query alone in its own implicit transaction: one round trip.")
    print(
        f"   ratio A / B {latency.ratio:6.2f}   target <= {GATE_TARGET}   "
        f"{'PASS' if latency.ratio <= GATE_TARGET else 'MISS'}"
    )
    print()
    parts = {samples.label: samples.median for samples in latency.parts}
    whole = parts[WHOLE]
    print(f"   The parts of a gated request, {PART_ROUNDS} rounds, each timed alone, side by side:")
    for samples in latency.parts:
        print(f"      {samples.label:<48} {_ms(samples.median)} {samples.median / whole:7.1%}")
    # Accounting: the gated request's trips are the gate's, the data's, and any more (COMMIT,
    # when it travels alone), each of those priced as one trivial round trip.
    gate_sql = parts.get(GATE_SQL)
    accounted = [("bare SQL (the data's round trip)", parts[BARE])]
    if gate_sql is not None:
        accounted.append(("gate SQL (its round trip, with a COMMIT)", gate_sql))
        more = get_trips - 2
    else:
        more = get_trips - 1
    accounted += [
        (f"{more} more round trip(s), at one trivial trip each", more * parts[TRIP]),
        ("token verification", parts[VERIFY]),
        ("response model", parts[MODEL]),
        ("log line", parts[LOG]),
    ]
    accounted.append(
        (
            "rest, by difference (event, input models, glue)",
            whole - sum(seconds for _, seconds in accounted),
        )
    )
    print("   Accounting for the whole:")
    for label, seconds in accounted:
        print(f"      {label:<48} {_ms(seconds)} {seconds / whole:7.1%}")
    verify_share = parts[VERIFY] / whole
    print(
        f"   JWT verification / the gated request {verify_share:7.1%}   target < 10%   "
        f"{'PASS' if verify_share < VERIFY_TARGET else 'MISS'}"
    )
    print()
    return [
        Figure("gate overhead, GET orders (A / B)", latency.ratio, GATE_TARGET, ""),
        Figure(
            "JWT verification / gated request",
            verify_share,
            VERIFY_TARGET,
            f"{verify_share:.1%}",
        ),
    ]


def _trips_section(counts: list[TripCount]) -> list[Figure]:
    print("2. Database round trips per request, counted at a loopback TCP proxy")
    print(f"   as {CALLER.key} at centrale; a round trip = a client burst the server answers.")
    print("   message types: P parse, B bind, D describe, E execute, S sync, Q simple query")
    figures = []
    for count in counts:
        trips = len(count.turns)
        checking = count.label.startswith("check:")
        target = 1 if checking else TRIPS_TARGET
        verdict = (
            ("ok" if trips == 1 else "COUNTER WRONG")
            if checking
            else ("PASS" if trips <= target else "MISS")
        )
        stable = "" if count.stable else "  (varied between requests)"
        noun = "round trip" if trips == 1 else "round trips"
        print(f"   {count.label:<38} {trips} {noun:<11}  target <= {target}   {verdict}{stable}")
        for number, turn in enumerate(count.turns, 1):
            print(f"      {number}. {turn.carries()}")
            print(f"         sent [{turn.messages()}]  <- {turn.answer()}")
        if not checking:
            figures.append(Figure(f"round trips, {count.label}", trips, TRIPS_TARGET, str(trips)))
    print()
    return figures


def _imports_section() -> list[Figure]:
    modules = handler_modules()
    codes = [FLOOR, BASELINE, MODELS, *(f"import {module}" for module in modules)]
    _progress(f"import times: {len(codes)} commands x {IMPORT_RUNS + 1} fresh interpreters")
    with tempfile.TemporaryDirectory(prefix="venue-bench-pycache-") as pycache:
        times = {t.code: t.median for t in measure(codes, Path(pycache), runs=IMPORT_RUNS)}
        slowest = max(modules, key=lambda module: times[f"import {module}"])
        added = added_packages(slowest, Path(pycache))
    baseline = times[BASELINE]
    print(
        f"3. Import time: fresh `python -c ...`, median of {IMPORT_RUNS} after 1 untimed run,"
        " bytecode cached"
    )
    print(f"   {'python -c':<60} {'median':>11} {'/ baseline':>10}")
    for code, note in ((FLOOR, "(floor)"), (BASELINE, "(baseline)"), (MODELS, "(reference)")):
        print(f"   {code + '  ' + note:<60} {_ms(times[code])} {times[code] / baseline:9.2f}x")
    figures = []
    for module in modules:
        seconds = times[f"import {module}"]
        ratio = seconds / baseline
        verdict = "PASS" if ratio <= IMPORT_TARGET else "MISS"
        print(f"   {'import ' + module:<60} {_ms(seconds)} {ratio:9.2f}x   {verdict}")
        figures.append(Figure(f"import {module} / baseline", ratio, IMPORT_TARGET, ""))
    print(
        f"   what the slowest, `import {slowest}`, loads beyond the baseline, by package"
        "\n   (-X importtime self times, one run):"
    )
    for package, seconds in added:
        print(f"      {package:<28} {seconds * 1000:7.1f} ms")
    print()
    return figures


def _summary(figures: list[Figure]) -> None:
    print("Summary (lower is better; a MISS is reported, never fatal)")
    print(f"   {'measure':<52} {'value':>7}  {'target':>8}  result")
    for figure in figures:
        value = figure.shown or f"{figure.value:.2f}"
        target = f"<= {figure.target:g}" if figure.target >= 1 else f"< {figure.target:.0%}"
        print(f"   {figure.name:<52} {value:>7}  {target:>8}  {figure.verdict}")


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
            _progress("counting round trips")
            counts = bench.round_trips()
            _progress("timing the gate against the bare SQL")
            latency = bench.latency(
                warmup=LATENCY_WARMUP, iterations=LATENCY_PAIRS, part_iterations=PART_ROUNDS
            )
            _progress("timing sign-ins")
            sign_in_cost = sign_in.measure(db.database.issuer_url)
        figures = _latency_section(latency, len(counts[0].turns))
        figures += _trips_section(counts)
        figures += _imports_section()
        sign_in.report(sign_in_cost)
        _summary(figures)
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
