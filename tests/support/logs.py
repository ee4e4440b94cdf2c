"""The JSON lines the functions write (tenancy.log), as written: for tests that assert what
a log line holds or must not hold."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from tenancy.log import log_handler


class WrittenLog:
    def __init__(self, buffer: io.StringIO) -> None:
        self._buffer = buffer

    def text(self) -> str:
        return self._buffer.getvalue()

    def lines(self) -> list[dict[str, Any]]:
        parsed: list[dict[str, Any]] = [json.loads(line) for line in self.text().splitlines()]
        return parsed

    def messages(self) -> list[str]:
        return [str(line["message"]) for line in self.lines()]


@contextmanager
def written_log() -> Iterator[WrittenLog]:
    """Points the functions' log stream at a buffer for the block (the writer keeps its
    stream in a logging handler of the service's logger), then back."""
    handler = log_handler()
    buffer = io.StringIO()
    previous = handler.setStream(buffer)
    try:
        yield WrittenLog(buffer)
    finally:
        if previous is not None:
            handler.setStream(previous)
