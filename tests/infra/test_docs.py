"""The documentation stands on its own: its links resolve inside the repository and the demo
ids it quotes are the seed's."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from infra.local.seed import CENTRALE, VENUES
from tests.conftest import ROOT

DOCUMENTS = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(document: Path) -> set[str]:
    """The heading anchors GitHub renders for ``document``."""
    found = set()
    for line in document.read_text().splitlines():
        if line.startswith("#"):
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", line.lstrip("#").strip())
            slug = re.sub(r"[^\w\- ]", "", text.lower()).replace(" ", "-")
            found.add(slug)
    return found


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_every_relative_link_resolves_inside_the_repository(document: Path) -> None:
    """Given a document, every link that is not a web address names a file of this
    repository (and, with a #fragment, one of its headings): a clone has all it points to."""
    broken = []
    for target in LINK.findall(document.read_text()):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, fragment = target.partition("#")
        linked = (document.parent / path).resolve() if path else document
        inside = linked.is_relative_to(ROOT) and linked.exists()
        if not inside or (fragment and fragment not in anchors(linked)):
            broken.append(target)

    assert broken == []


@pytest.mark.parametrize("document", DOCUMENTS, ids=lambda p: p.relative_to(ROOT).as_posix())
def test_no_document_points_outside_the_clone(document: Path) -> None:
    text = document.read_text()

    assert "../shared" not in text
    assert "DESIGN" not in text


def test_the_readme_quotes_the_demo_venue_ids_of_the_seed() -> None:
    """Given the README's example call and its list of demo ids, they are the seed's."""
    readme = (ROOT / "README.md").read_text()

    assert f"/venues/{CENTRALE}/orders" in readme
    for slug, (venue_id, _, _) in VENUES.items():
        assert re.search(rf"{slug}\W+`{venue_id}`", readme), slug
