"""Side-by-side timing: every candidate runs in the same loop, so drift (CPU frequency, a
neighbour on the machine, the server's caches) hits all of them alike and their ratio holds
even when the absolute figures move."""

from __future__ import annotations

import gc
import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

__all__ = ["Samples", "interleaved"]


@dataclass(frozen=True)
class Samples:
    """Wall times of one candidate, in seconds."""

    label: str
    seconds: tuple[float, ...]

    @property
    def median(self) -> float:
        return statistics.median(self.seconds)

    @property
    def p90(self) -> float:
        return statistics.quantiles(self.seconds, n=10)[-1]


def interleaved(
    candidates: Sequence[tuple[str, Callable[[], object]]],
    *,
    warmup: int,
    iterations: int,
) -> list[Samples]:
    """Run the candidates in turn (A, B, A, B, ...): ``warmup`` untimed rounds, then
    ``iterations`` timed ones. One sample per call; medians resist the odd slow call."""
    for _ in range(warmup):
        for _, call in candidates:
            call()
    gc.collect()
    samples: list[list[float]] = [[] for _ in candidates]
    clock = time.perf_counter
    for _ in range(iterations):
        for index, (_, call) in enumerate(candidates):
            start = clock()
            call()
            samples[index].append(clock() - start)
    return [
        Samples(label, tuple(times)) for (label, _), times in zip(candidates, samples, strict=True)
    ]
