"""One cold start, as a Lambda container pays it: ``python -m bench.cold_start area.module``.

In a fresh interpreter it imports the handler module, then serves one request, the API
Gateway event in ``BENCH_EVENT``, with the runtime the handler builds from its environment
(``tenancy.runtime.current_runtime``: ``DATABASE_ROLE``, ``DATABASE_URL``, ``BINDING_KEY``,
``TOKEN_ISSUER``, ``TOKEN_AUDIENCE``, ``JWKS_URL``), exactly as in AWS: a new token verifier,
a new connection, the first request of the process. `make bench` (bench/imports.py) starts
it and times the whole process; the split is this process's own report, one line on stderr:
``bench-cold-start {"import": s, "first_request": s, "verify": s, "connect": s}``.

Nothing but the standard library is imported before the handler module, so its import is
timed whole. A request that is not answered 2xx fails the process.
"""

from __future__ import annotations

import importlib
import json
import os
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import AbstractContextManager, contextmanager
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tenancy.db import ConnectionSource, GateConnection
    from tenancy.runtime import Runtime

__all__ = ["IMPORTED", "MARK", "main"]

MARK = "bench-cold-start "
#: Written on stderr between the import and the request, so ``-X importtime`` output can be
#: split into what the import loads and what the first request loads.
IMPORTED = "bench-cold-start: imported"


class _TimedSource:
    """A connection source that adds the time to get its connection (opened on first use)."""

    def __init__(self, inner: ConnectionSource, spent: dict[str, float]) -> None:
        self._inner = inner
        self._spent = spent

    @contextmanager
    def connection(self) -> Iterator[GateConnection]:
        start = time.perf_counter()
        source: AbstractContextManager[GateConnection] = self._inner.connection()
        with source as conn:
            self._spent["connect"] += time.perf_counter() - start
            yield conn


def _instrument(runtime: Runtime, spent: dict[str, float]) -> None:
    """Time the token verification and the connection, leaving both as they are."""
    verifier = runtime.verifier
    verify: Callable[[str], Any] = verifier.verify

    def timed_verify(token: str) -> Any:
        start = time.perf_counter()
        try:
            return verify(token)
        finally:
            spent["verify"] += time.perf_counter() - start

    vars(verifier)["verify"] = timed_verify
    databases: Mapping[Any, ConnectionSource] = runtime.databases
    runtime.databases = {role: _TimedSource(source, spent) for role, source in databases.items()}


def main(argv: list[str]) -> None:
    module = argv[1]
    event = json.loads(os.environ["BENCH_EVENT"])
    started = time.perf_counter()
    handler = importlib.import_module(module).handler
    imported = time.perf_counter()
    print(IMPORTED, file=sys.stderr, flush=True)
    # Already loaded by the handler module; the runtime is built now, in the first request,
    # as the handler would build it.
    from tenancy.runtime import current_runtime

    spent = {"verify": 0.0, "connect": 0.0}
    _instrument(current_runtime(), spent)
    response = handler(event, None)
    served = time.perf_counter()
    if not 200 <= int(response["statusCode"]) < 300:
        print(f"{module} answered {response}", file=sys.stderr)
        raise SystemExit(1)
    report = {"import": imported - started, "first_request": served - imported, **spent}
    print(MARK + json.dumps(report), file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv)
