"""Business metrics as CloudWatch Embedded Metric Format (EMF) lines.

A function prints one JSON line per metric on stdout; CloudWatch Logs turns it into a metric
without any API call, so emitting costs a ``json.dumps`` and a write. (Powertools' Metrics
does the same with more machinery at import; this is the part we use.)

The dimensions are few and bounded (the service and the route): a venue or user id is kept
as a property of the line, searchable in the logs, never a dimension (one metric per venue
would be unbounded cost).
"""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["NAMESPACE", "REFUSALS", "Metrics", "emf_line"]

NAMESPACE = "VenueBackend"
SERVICE = "venue-backend"

#: The refusals that are business signals, by problem code: a caller sent to a venue that
#: is not theirs (or does not exist), and a failed sign-in (wrong password, unknown email,
#: disabled account, locked out). The alarms and the dashboard in template.yaml read them.
REFUSALS: Mapping[str, str] = {
    "venue-access-denied": "CrossVenueRefusals",
    "access_denied": "SignInRefusals",
}


def emf_line(
    name: str,
    value: float,
    *,
    unit: str = "Count",
    dimensions: Mapping[str, str],
    properties: Mapping[str, Any] | None = None,
    namespace: str = NAMESPACE,
    now: float | None = None,
) -> str:
    """One EMF document: ``name`` = ``value`` under ``dimensions``, with ``properties``
    carried along as searchable, non-metric fields."""
    document: dict[str, Any] = {
        **(properties or {}),
        **dimensions,
        name: value,
        "_aws": {
            "Timestamp": int((time.time() if now is None else now) * 1000),
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": unit}],
                }
            ],
        },
    }
    return json.dumps(document, separators=(",", ":"), default=str)


def _stdout(line: str) -> None:
    sys.stdout.write(line + "\n")
    sys.stdout.flush()


class Metrics:
    """Emits business metrics; ``write`` receives each EMF line (stdout in Lambda)."""

    def __init__(self, write: Callable[[str], None] = _stdout, service: str = SERVICE) -> None:
        self._write = write
        self._service = service

    def count(self, name: str, *, route: str, value: int = 1, **properties: Any) -> None:
        self._write(
            emf_line(
                name,
                value,
                dimensions={"service": self._service, "route": route},
                properties=properties,
            )
        )

    def refused(self, code: str, *, route: str, **properties: Any) -> None:
        """Count a refusal when its code is one of the business signals (``REFUSALS``)."""
        name = REFUSALS.get(code)
        if name is not None:
            self.count(name, route=route, **properties)


def silent() -> Metrics:
    """Metrics that go nowhere: for processes that are not Lambda (tests, `make dev`)."""
    return Metrics(write=lambda line: None)
