"""template.yaml gives each function exactly what its route's declaration needs: its
database role's secret, the binding key when gated, and its ``needs``; nothing else."""

from __future__ import annotations

import pytest

from infra.functions_template import TEMPLATE as TEMPLATE_PATH
from infra.functions_template import render
from tenancy.catalogue import discover
from tests.conftest import ROOT

DECLARED = discover(ROOT / "functions")


def test_the_committed_template_is_what_the_declarations_generate() -> None:
    """Given the route declarations, when `make template` would write the functions and
    their parameters, then template.yaml already says exactly that."""
    committed = TEMPLATE_PATH.read_text()

    assert committed == render(committed, DECLARED), "template.yaml is stale: run `make template`"


def test_a_template_without_the_markers_is_refused() -> None:
    """Given a template that lost the markers of the generated parts, when it is written,
    then the writer refuses, naming the markers it needs."""
    with pytest.raises(ValueError, match="needs one pair of markers for the parameters"):
        render("Resources: {}\n", DECLARED)
