"""The route decorators are typed: mypy refuses a handler whose request type does not match
the query and body its declaration names."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import ROOT

DECLARATIONS = """
from pydantic import BaseModel
from tenancy import NoBody, NoQuery, StrictBody, VenueRequest, venue_route


class Filter(BaseModel):
    status: str | None = None


class Change(StrictBody):
    price_cents: int


@venue_route("GET", "/venues/{venue_id}/things", summary="ok", query=Filter)
def matches(request: VenueRequest[Filter, NoBody]) -> None: ...


@venue_route("PATCH", "/venues/{venue_id}/things/{thing_id}", summary="ok", body=Change)
def also_matches(request: VenueRequest[NoQuery, Change]) -> None: ...


@venue_route("PATCH", "/venues/{venue_id}/other/{thing_id}", summary="bad", body=Change)
def forgot_its_body(request: VenueRequest[NoQuery, NoBody]) -> None: ...


@venue_route("GET", "/venues/{venue_id}/others", summary="bad")
def reads_a_query_never_declared(request: VenueRequest[Filter, NoBody]) -> None: ...
"""


@pytest.mark.timeout(120)
def test_mypy_refuses_a_handler_that_does_not_match_its_declaration(tmp_path: Path) -> None:
    """Given two matching declarations and two that do not (a body declared but not typed,
    a query typed but not declared), mypy reports exactly the two that do not."""
    from mypy import api

    source = tmp_path / "routes_under_test.py"
    source.write_text(DECLARATIONS)

    stdout, _, status = api.run(
        [
            "--strict",
            "--no-incremental",
            "--config-file",
            str(ROOT / "pyproject.toml"),
            "--cache-dir",
            str(tmp_path / "cache"),
            str(source),
        ]
    )

    errors = [line for line in stdout.splitlines() if ": error:" in line]
    assert status == 1
    assert len(errors) == 2, stdout
    assert all("incompatible type" in line for line in errors), stdout
    lines = DECLARATIONS.splitlines()
    flagged = {int(line.split(":")[1]) for line in errors}
    # Each error points at a decorator; the handler it decorates is on the next line.
    handlers = {lines[n].split("(")[0].removeprefix("def ") for n in flagged}
    assert handlers == {"forgot_its_body", "reads_a_query_never_declared"}
