"""What the signed bindings cost: ``app.binding_allows(0)``, the verifier every row-level
security policy asks once per statement, timed as the venue role with a genuine binding.

Two estimates of one call: a round trip ``SELECT app.binding_allows(0)`` against ``SELECT 1``
on the same connection, and ``LOOP_CALLS`` calls in one statement against the same rows
without the call (per call: the difference over ``LOOP_CALLS``), which leaves the round trip
out. How many calls a request makes is counted by Postgres itself (bench/routes.py).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bench.gate_cost import GateBench
from bench.stack import one_trip
from bench.timing import Samples, interleaved
from infra.local.seed import CENTRALE
from tenancy.db import connect

__all__ = ["CALL", "LOOP_CALLS", "BindingCost", "measure"]

CALL = "SELECT app.binding_allows(0)"
TRIVIAL = "SELECT 1"
LOOP_CALLS = 100
_LOOP = f"SELECT bool_and(app.binding_allows(0)) FROM generate_series(1, {LOOP_CALLS})"
_LOOP_FLOOR = f"SELECT bool_and(n > 0) FROM generate_series(1, {LOOP_CALLS}) n"


@dataclass(frozen=True)
class BindingCost:
    trivial: Samples
    call: Samples
    loop: Samples
    loop_floor: Samples

    @property
    def per_call_by_trip(self) -> float:
        """Seconds: one call's round trip less a trivial one's."""
        return self.call.median - self.trivial.median

    @property
    def per_call_in_loop(self) -> float:
        """Seconds: one call, from ``LOOP_CALLS`` in one statement, without any round trip."""
        return (self.loop.median - self.loop_floor.median) / LOOP_CALLS


def measure(bench: GateBench, *, warmup: int, rounds: int) -> BindingCost:
    """As app_venue, with Sara at centrale bound for the session (signed, one hour)."""
    conn = connect(bench.database.venue_url)
    try:
        bench.bind_session(conn, bench.sara, CENTRALE)
        for query in (CALL, _LOOP):
            if one_trip(conn, query) != [(True,)]:
                raise RuntimeError(f"{query} did not answer true: the binding is not genuine")
        candidates: list[tuple[str, Callable[[], object]]] = [
            (TRIVIAL, lambda: one_trip(conn, TRIVIAL)),
            (CALL, lambda: one_trip(conn, CALL)),
            (_LOOP, lambda: one_trip(conn, _LOOP)),
            (_LOOP_FLOOR, lambda: one_trip(conn, _LOOP_FLOOR)),
        ]
        trivial, call, loop, loop_floor = interleaved(candidates, warmup=warmup, iterations=rounds)
        return BindingCost(trivial, call, loop, loop_floor)
    finally:
        conn.close()
