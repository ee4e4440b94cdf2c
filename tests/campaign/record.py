"""What each campaign tried and what came out, for docs/security-testing.md.

A campaign test calls :func:`record` once per run; ``make campaign`` renders every record
into docs/security-testing.md. Records live in ``.campaign/`` (not committed)."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

RECORDS = Path(__file__).resolve().parents[2] / ".campaign"


def full_size() -> bool:
    """True under ``make campaign`` (CAMPAIGN_SIZE=full); CI runs the bounded size."""
    return os.environ.get("CAMPAIGN_SIZE") == "full"


def record(name: str, *, cases: int, outcome: str, details: list[str] | None = None) -> None:
    """Keeps one campaign's figures: how many cases it tried and what it found."""
    RECORDS.mkdir(exist_ok=True)
    entry = {
        "campaign": name,
        "cases": cases,
        "outcome": outcome,
        "details": details or [],
        "size": "full" if full_size() else "bounded",
        "at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    (RECORDS / f"{name}.json").write_text(json.dumps(entry, indent=2) + "\n")
