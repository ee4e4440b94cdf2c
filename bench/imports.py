"""Cold-start import cost of each Lambda handler module, against the two libraries every
handler needs anyway (psycopg and pydantic): a handler should cost little more than them."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tenancy.catalogue import discover

__all__ = [
    "BASELINE",
    "FLOOR",
    "MODELS",
    "ImportTime",
    "added_packages",
    "handler_modules",
    "measure",
]

ROOT = Path(__file__).resolve().parents[1]
FLOOR = "pass"
BASELINE = "import psycopg, pydantic"
#: ``import pydantic`` loads its model machinery lazily; a handler always needs it.
MODELS = "import psycopg; from pydantic import BaseModel"


@dataclass(frozen=True)
class ImportTime:
    code: str
    median: float


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


def _run(code: str, env: dict[str, str], *extra: str) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *extra, "-c", code],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"python -c {code!r} failed:\n{done.stderr}")
    return elapsed, done.stderr


def measure(codes: Sequence[str], pycache: Path, runs: int = 7) -> list[ImportTime]:
    """Median wall time of a fresh ``python -c <code>`` for each code: one untimed round
    (it fills the bytecode cache), then ``runs`` rounds, the codes in turn within each."""
    env = _env(pycache)
    times: dict[str, list[float]] = {code: [] for code in codes}
    for round_ in range(runs + 1):
        for code in codes:
            elapsed, _ = _run(code, env)
            if round_:
                times[code].append(elapsed)
    return [ImportTime(code, statistics.median(times[code])) for code in codes]


def added_packages(module: str, pycache: Path, top: int = 7) -> list[tuple[str, float]]:
    """What ``import <module>`` adds on top of the baseline, by top-level package: the
    ``-X importtime`` self times of the modules it loads after the baseline's, in seconds,
    heaviest first (one run: read it as proportions)."""
    _, report = _run(f"{BASELINE}; import {module}", _env(pycache), "-X", "importtime")
    per_package: dict[str, float] = defaultdict(float)
    after_baseline = False
    for line in report.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        self_us, _, field = line[len("import time:") :].split("|")
        name = field.strip()
        if not after_baseline:
            # The baseline's last module is pydantic at the top level (one space of indent).
            after_baseline = name == "pydantic" and field.startswith(" pydantic")
            continue
        per_package[name.split(".")[0]] += int(self_us) / 1e6
    return sorted(per_package.items(), key=lambda item: item[1], reverse=True)[:top]
