"""Sentry, only when a DSN is set: errors with their stack traces, never what people typed.

``sentry_sdk`` is initialised once per container with its AWS Lambda integration and with
``before_send``, which drops request bodies, query strings and cookies outright and passes
everything else through ``tenancy.log.scrub`` (tokens, passwords, PINs, secrets, allergens
and dietary notes by key; bearer tokens by shape, wherever they appear).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from typing import Any

from tenancy.log import REDACTED, scrub

__all__ = ["before_send", "reporter"]

#: Request parts dropped whole: what a caller sent, in any shape.
_REQUEST_PARTS = ("data", "query_string", "cookies", "body")
#: Keys dropped wherever they are in the event: bodies of any kind.
_BODY_KEYS = frozenset({"body", "data", "raw_body", "request_body"})


def _drop_bodies(value: Any) -> Any:
    if isinstance(value, Mapping):
        return {
            key: REDACTED if key in _BODY_KEYS else _drop_bodies(item)
            for key, item in value.items()
        }
    if isinstance(value, list | tuple):
        return [_drop_bodies(item) for item in value]
    return value


def before_send(event: dict[str, Any], hint: Any) -> dict[str, Any]:
    """The event as it may leave: bodies gone, secrets scrubbed."""
    request = event.get("request")
    if isinstance(request, Mapping):
        event = {
            **event,
            "request": {k: v for k, v in request.items() if k not in _REQUEST_PARTS},
        }
    cleaned: dict[str, Any] = scrub(_drop_bodies(event))
    return cleaned


_lock = threading.Lock()


def reporter(dsn: str, environment: str) -> Callable[[BaseException], None]:
    """Reports an error to Sentry (initialised on first use). Only a DSN (``https://...``)
    turns it on; anything else, such as the deployed secret's placeholder, leaves Sentry out
    and never imports it."""
    if not dsn.startswith("https://"):
        return lambda error: None

    def report(error: BaseException) -> None:
        import sentry_sdk

        with _lock:
            if not sentry_sdk.is_initialized():
                from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration

                sentry_sdk.init(
                    dsn=dsn,
                    environment=environment,
                    send_default_pii=False,
                    integrations=[AwsLambdaIntegration()],
                    before_send=before_send,  # type: ignore[arg-type]
                )
        sentry_sdk.capture_exception(error)

    return report
