"""docs/security-testing.md is rendered from every campaign's record."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.campaign.report import load, render


def test_every_record_is_on_the_page_with_its_cases_and_outcome(tmp_path: Path) -> None:
    for name, cases in (("fuzz every route", 10_240), ("faults", 12)):
        (tmp_path / f"{name}.json").write_text(
            json.dumps(
                {
                    "campaign": name,
                    "cases": cases,
                    "outcome": "no finding",
                    "details": [f"{name} detail"],
                    "size": "full",
                    "at": "2026-11-25T13:40:00+00:00",
                }
            )
        )

    page = render(load(tmp_path))

    assert "| [faults](#faults) | full | 12 | no finding | 2026-11-25T13:40:00+00:00 |" in page
    assert "## fuzz every route\n\n10,240 cases (full size): no finding" in page
    assert "- fuzz every route detail" in page
    assert "Last run: 2026-11-25." in page


def test_no_records_is_an_error_not_an_empty_page(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="make campaign"):
        render(load(tmp_path))
