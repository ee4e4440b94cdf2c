"""The Have-I-Been-Pwned range client: padding ignored, outages handled as configured."""

from __future__ import annotations

import hashlib
import socket
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path

import pytest

from auth.breaches import (
    BreachChecker,
    BreachCorpusUnavailable,
    HttpRangeClient,
    LocalCorpusRangeClient,
)
from tenancy.problems import Problem
from tests.support.stack import BREACH_CORPUS as CORPUS


def sha1(text: str) -> str:
    return hashlib.sha1(text.encode()).hexdigest().upper()  # noqa: S324


class PaddedOnly:
    """A corpus whose only matching line is padding (count 0)."""

    def range(self, prefix: str) -> str:
        return f"{sha1('Padding-Only-2026!')[5:]}:0\r\nABCDEF0123456789ABCDEF0123456789ABC:3"


class Down:
    def range(self, prefix: str) -> str:
        raise BreachCorpusUnavailable("no route")


def test_the_local_corpus_knows_breached_passwords_and_pads_its_answers() -> None:
    client = LocalCorpusRangeClient(CORPUS)
    checker = BreachChecker(client, "refuse")

    assert checker.is_breached("Password123!")
    assert checker.is_breached("P@ssw0rd")
    assert not checker.is_breached("Centrale&Nord-demo-2026")
    assert any(line.endswith(":0") for line in client.range(sha1("password")[:5]).splitlines())


def test_padding_lines_are_not_breaches() -> None:
    assert not BreachChecker(PaddedOnly(), "refuse").is_breached("Padding-Only-2026!")


def test_an_unreachable_corpus_refuses_by_default_setting() -> None:
    with pytest.raises(Problem) as refused:
        BreachChecker(Down(), "refuse").is_breached("Anything-2026!")

    assert refused.value.status == 503
    assert refused.value.code == "breach-check-unavailable"
    assert refused.value.headers["retry-after"]


def test_an_unreachable_corpus_can_be_allowed_by_setting() -> None:
    assert not BreachChecker(Down(), "allow").is_breached("Anything-2026!")


def test_a_missing_local_corpus_is_unavailable(tmp_path: Path) -> None:
    with pytest.raises(BreachCorpusUnavailable):
        LocalCorpusRangeClient(tmp_path / "missing.txt").range("ABCDE")


@pytest.fixture
def range_server() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A loopback stand-in for the range API that records each request's headers."""
    seen: list[dict[str, str]] = []
    suffix = sha1("Password123!")[5:]

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            seen.append({"path": self.path, **{k.lower(): v for k, v in self.headers.items()}})
            body = f"{suffix}:12\r\n0000000000000000000000000000000000A:0".encode()
            self.send_response(200)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield f"http://127.0.0.1:{server.server_address[1]}/range/", seen
    server.shutdown()


def test_the_http_client_asks_for_padding_and_sends_only_the_prefix(
    range_server: tuple[str, list[dict[str, str]]],
) -> None:
    url, seen = range_server

    breached = BreachChecker(HttpRangeClient(url), "refuse").is_breached("Password123!")

    assert breached
    assert seen[0]["path"] == f"/range/{sha1('Password123!')[:5]}"
    assert seen[0]["add-padding"] == "true"


def test_an_unreachable_server_is_unavailable() -> None:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]  # closed once the block ends: nothing listens there

    with pytest.raises(BreachCorpusUnavailable):
        HttpRangeClient(f"http://127.0.0.1:{port}/range/", timeout=1).range("ABCDE")
