"""Structured JSON logs (Powertools) with venue and user as keys, scrubbed of secrets."""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

__all__ = ["Log", "scrub"]

_SENSITIVE_KEY = re.compile(
    r"pass(word)?|pin|token|secret|authorization|cookie|allergen|dietary|otp|code_verifier|"
    r"recovery|api[_-]?key|private",
    re.IGNORECASE,
)
_JWT = re.compile(r"eyJ[\w-]+\.[\w-]+\.[\w-]*")
REDACTED = "[redacted]"


def scrub(value: Any) -> Any:
    """``value`` with secrets replaced, recursively; used for log lines and Sentry events."""
    if isinstance(value, Mapping):
        return {
            k: REDACTED if isinstance(k, str) and _SENSITIVE_KEY.search(k) else scrub(v)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    if isinstance(value, str):
        return _JWT.sub(REDACTED, value)
    return value


@functools.cache
def _logger() -> Any:
    from aws_lambda_powertools import Logger

    return Logger(service="venue-backend")


class Log:
    """A logger carrying keys; ``bind`` returns a new one with more keys."""

    def __init__(self, keys: Mapping[str, Any] | None = None) -> None:
        self._keys = dict(keys or {})

    def bind(self, **keys: Any) -> Log:
        return Log({**self._keys, **keys})

    def _emit(self, level: str, message: str, keys: Mapping[str, Any], **kwargs: Any) -> None:
        getattr(_logger(), level)(message, extra=scrub({**self._keys, **keys}), **kwargs)

    def info(self, message: str, **keys: Any) -> None:
        self._emit("info", message, keys)

    def warning(self, message: str, **keys: Any) -> None:
        self._emit("warning", message, keys)

    def exception(self, message: str, **keys: Any) -> None:
        self._emit("exception", message, keys)
