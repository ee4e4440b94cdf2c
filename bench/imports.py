"""Cold-start cost of each Lambda handler, against the two libraries every handler needs
anyway (psycopg and pydantic): its import alone, and its import plus its first request (what
a new container pays before its first answer). A handler should cost little more than them.

Every figure is the wall time of a fresh interpreter (``python -c ...`` or ``python -m
bench.cold_start ...``), the median of several runs taken in turn, so the commands share
whatever the machine is doing.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

from bench.cold_start import IMPORTED, MARK
from bench.gate_cost import CALLER, GateBench
from bench.stack import api_event
from infra.local.aws import REGION
from infra.local.issuer import BREACH_CORPUS
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER
from infra.local.seed import CENTRALE, LOCAL_APP_KEYS, menu_item_id
from infra.local.signin import authorization_query, new_verifier
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.spec import DbRole

__all__ = [
    "BASELINE",
    "FLOOR",
    "MODELS",
    "Command",
    "Timing",
    "added_packages",
    "cold_starts",
    "first_request_imports",
    "handler_modules",
    "measure",
    "python_c",
]

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "pass"
BASELINE = "import psycopg, pydantic"
#: ``import pydantic`` loads its model machinery lazily; a handler always needs it.
MODELS = "import psycopg; from pydantic import BaseModel"


@dataclass(frozen=True)
class Command:
    """A fresh interpreter's arguments (after ``python``) and what it adds to the
    environment."""

    label: str
    args: tuple[str, ...]
    env: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Timing:
    label: str
    median: float
    #: The fastest run: what the command costs when nothing else wants the cores.
    fastest: float
    #: The cold-start children's own reports, one per timed run (empty for ``python -c``).
    reports: tuple[Mapping[str, float], ...] = ()

    def reported(self, key: str) -> float:
        """The median of one figure of the children's reports, in seconds."""
        return statistics.median(report[key] for report in self.reports)


def python_c(code: str) -> Command:
    return Command(code, ("-c", code))


def _env(pycache: Path) -> dict[str, str]:
    """The handlers' import path, and bytecode cached in ``pycache`` whatever the caller's
    environment says (PYTHONDONTWRITEBYTECODE would otherwise recompile the project's modules
    on every run, and the repository gets no __pycache__ from the bench)."""
    path = os.pathsep.join(str(ROOT / part) for part in (".", "functions", "layers/tenancy"))
    env = {**os.environ, "PYTHONPATH": path, "PYTHONPYCACHEPREFIX": str(pycache)}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def handler_modules() -> list[str]:
    """``area.module`` of every declared route's handler (``area.module.handler``)."""
    return sorted({d.handler.rpartition(".")[0] for d in discover(ROOT / "functions")})


def _run(args: Sequence[str], env: Mapping[str, str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args],
        env=dict(env),
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python {' '.join(args)!r} failed:\n{done.stderr}")
    return elapsed, done.stderr


def _report(stderr: str) -> dict[str, float] | None:
    for line in reversed(stderr.splitlines()):
        if line.startswith(MARK):
            report: dict[str, float] = json.loads(line[len(MARK) :])
            return report
    return None


def measure(commands: Sequence[Command], pycache: Path, runs: int = 7) -> list[Timing]:
    """Median wall time of a fresh interpreter for each command: one untimed round (it fills
    the bytecode cache), then ``runs`` rounds, the commands in turn within each."""
    env = _env(pycache)
    times: dict[str, list[float]] = {command.label: [] for command in commands}
    reports: dict[str, list[dict[str, float]]] = {command.label: [] for command in commands}
    for round_ in range(runs + 1):
        for command in commands:
            elapsed, stderr = _run(command.args, {**env, **command.env})
            report = _report(stderr)
            if round_:
                times[command.label].append(elapsed)
                if report is not None:
                    reports[command.label].append(report)
    return [
        Timing(
            c.label,
            statistics.median(times[c.label]),
            min(times[c.label]),
            tuple(reports[c.label]),
        )
        for c in commands
    ]


def cold_starts(bench: GateBench, jwks: Path) -> tuple[list[Command], list[str]]:
    """A ``python -m bench.cold_start`` command for every handler this machine can serve
    in a fresh interpreter without AWS, and the modules it cannot (measured as imports
    only). Served: the venue role's routes (venue, account, health) and two of the issuer's
    whose valid request needs no AWS call and no state made beforehand (the OpenID
    discovery document; the sign-in page of an authorization request, which builds a KMS
    client but does not call it)."""
    sara = bench.caller(CALLER.id).token
    centrale = {"venue_id": str(CENTRALE)}
    sign_in_page = api_event("GET", "/oauth/authorize", {}, None)
    query = authorization_query(new_verifier(), state="bench").partition("?")[2]
    sign_in_page["rawQueryString"] = query
    sign_in_page["queryStringParameters"] = dict(parse_qsl(query))
    events: dict[str, dict[str, Any]] = {
        "GET /health": api_event("GET", "/health", {}, None),
        "GET /me": api_event("GET", "/me", {}, sara),
        "GET /me/venues": api_event("GET", "/me/venues", {}, sara),
        "GET /venues/{venue_id}": api_event("GET", "/venues/{venue_id}", centrale, sara),
        "GET /venues/{venue_id}/orders": api_event(
            "GET", "/venues/{venue_id}/orders", centrale, sara
        ),
        "PATCH /venues/{venue_id}/menu/items/{item_id}": api_event(
            "PATCH",
            "/venues/{venue_id}/menu/items/{item_id}",
            {**centrale, "item_id": str(menu_item_id("Tiramisù"))},
            sara,
            body=json.dumps({"price_cents": 707}),
        ),
        "GET /.well-known/openid-configuration": api_event(
            "GET", "/.well-known/openid-configuration", {}, None
        ),
        "GET /oauth/authorize": sign_in_page,
    }
    database = bench.database
    runtime_env = {
        "TOKEN_ISSUER": LOCAL_ISSUER,
        "TOKEN_AUDIENCE": LOCAL_AUDIENCE,
        "JWKS_URL": jwks.as_uri(),
        "BINDING_KEY": database.binding_key,
    }
    issuer_env = {
        # The signing key is never used by these two routes: KMS is not called.
        "TOKEN_SIGNING_KEY_IDS": "bench-not-called",
        "APP_KEYS": LOCAL_APP_KEYS,
        "BREACH_CORPUS": str(BREACH_CORPUS),
        "AWS_DEFAULT_REGION": REGION,
    }
    urls = {DbRole.VENUE: database.venue_url, DbRole.ISSUER: database.issuer_url}
    commands: list[Command] = []
    imports_only: list[str] = []
    declared: list[DeclaredRoute] = discover(ROOT / "functions")
    for route in sorted(declared, key=lambda d: d.handler):
        module = route.handler.rpartition(".")[0]
        event = events.get(route.spec.route_key)
        if event is None:
            imports_only.append(module)
            continue
        env = {**runtime_env, "BENCH_EVENT": json.dumps(event)}
        if route.spec.database is not None:
            env |= {
                "DATABASE_ROLE": route.spec.database.value,
                "DATABASE_URL": urls[route.spec.database],
            }
        if module.startswith("auth."):
            env |= issuer_env
        commands.append(Command(f"serve {module}", ("-m", "bench.cold_start", module), env))
    return commands, imports_only


def _by_package(lines: Sequence[str], top: int) -> list[tuple[str, float]]:
    """``-X importtime`` lines summed by top-level package (self times, in seconds),
    heaviest first."""
    per_package: dict[str, float] = defaultdict(float)
    for line in lines:
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, name = line[len("import time:") :].split("|")
        per_package[name.strip().split(".")[0]] += int(self_us) / 1e6
    return sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]


def added_packages(module: str, pycache: Path, top: int = 7) -> list[tuple[str, float]]:
    """What ``import <module>`` adds on top of the baseline, by top-level package: the
    ``-X importtime`` self times of the modules it loads after the baseline's, in seconds,
    heaviest first (one run: read it as proportions)."""
    _, report = _run(["-X", "importtime", "-c", f"{BASELINE}; import {module}"], _env(pycache))
    lines = report.splitlines()
    # The baseline's last module is pydantic at the top level (one space of indent).
    end = next((i for i, line in enumerate(lines) if line.endswith("| pydantic")), len(lines) - 1)
    return _by_package(lines[end + 1 :], top)


def first_request_imports(
    command: Command, pycache: Path, top: int = 7
) -> tuple[float, list[tuple[str, float]]]:
    """What a cold start's first request imports (after the handler module's import), by
    top-level package, and the sum of all of it, in seconds (one run, ``-X importtime``)."""
    _, report = _run(("-X", "importtime", *command.args), {**_env(pycache), **command.env})
    lines = report.splitlines()
    start = lines.index(IMPORTED) + 1 if IMPORTED in lines else len(lines)
    everything = _by_package(lines[start:], top=10_000)
    return sum(seconds for _, seconds in everything), everything[:top]


def main() -> None:
    """``python -m bench.imports [runs]``: the handlers' import times alone, against the
    baseline (the first table of ``make bench``'s section 6, without its database and cold
    starts), and the handlers that miss the target."""
    import tempfile

    from bench.__main__ import IMPORT_RUNS, IMPORT_TARGET

    runs = int(sys.argv[1]) if len(sys.argv) > 1 else IMPORT_RUNS
    modules = handler_modules()
    commands = [python_c(FLOOR), python_c(BASELINE), *(python_c(f"import {m}") for m in modules)]
    print(f"{len(commands)} commands x {runs + 1} fresh interpreters", file=sys.stderr)
    with tempfile.TemporaryDirectory(prefix="venue-bench-pycache-") as scratch:
        times = {t.label: t for t in measure(commands, Path(scratch), runs=runs)}
    baseline = times[BASELINE].median
    print(f"baseline `{BASELINE}`: {baseline * 1000:.1f} ms (median of {runs})")
    ratios = {m: times[f"import {m}"].median / baseline for m in modules}
    for module, ratio in sorted(ratios.items(), key=lambda item: item[1], reverse=True):
        print(f"   import {module:<52} {ratio:5.2f}x  {'MISS' if ratio > IMPORT_TARGET else ''}")
    misses = [ratio for ratio in ratios.values() if ratio > IMPORT_TARGET]
    span = f" ({min(misses):.2f}-{max(misses):.2f})" if misses else ""
    print(
        f"{len(misses)} of {len(modules)} handlers miss <= {IMPORT_TARGET}{span};"
        f" range {min(ratios.values()):.2f}-{max(ratios.values()):.2f}"
    )


if __name__ == "__main__":
    main()
