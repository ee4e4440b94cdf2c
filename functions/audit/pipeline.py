"""What the consumer and the sweeper are wired to: their database connection (app_audit),
the audit bucket, the alerts topic and the audit queue. Built once per container from the
environment; tests and `make dev` build their own and install it."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from audit.alerts import DEFAULT_LIMITS, Limits, Publisher
from audit.copies import BucketCopies
from tenancy.db import ConnectionSource
from tenancy.log import Log
from tenancy.settings import Settings, settings

__all__ = ["SWEEP_AFTER", "AuditPipeline", "current_pipeline", "install_pipeline"]

#: Outbox events older than this, still not consumed, are sent again by the sweeper (the
#: relay sends at commit; this covers a send that failed and a container that died).
SWEEP_AFTER = dt.timedelta(seconds=60)


@dataclass
class AuditPipeline:
    #: Connections as app_audit.
    database: ConnectionSource
    copies: BucketCopies
    alerts: Publisher
    #: The audit queue (the sweeper sends to it) and a client factory for it.
    queue_url: str = ""
    sqs: Callable[[], Any] | None = None
    limits: Limits = DEFAULT_LIMITS
    sweep_after: dt.timedelta = SWEEP_AFTER
    log: Log = field(default_factory=Log)
    report: Callable[[BaseException], None] = lambda error: None

    @classmethod
    def from_settings(cls, config: Settings) -> AuditPipeline:
        from tenancy.runtime import connection_source
        from tenancy.sentry import reporter

        return cls(
            database=connection_source(config),
            copies=BucketCopies(config.audit_bucket_name),
            alerts=Publisher(config.alerts_topic_arn),
            queue_url=config.audit_queue_url,
            sqs=_sqs_client,
            report=reporter(config.sentry_dsn, config.stage),
        )


def _sqs_client() -> Any:
    import boto3

    return boto3.client("sqs")


_lock = threading.Lock()
_pipeline: AuditPipeline | None = None


def current_pipeline() -> AuditPipeline:
    """The container's pipeline, built from the environment on first use."""
    global _pipeline
    with _lock:
        if _pipeline is None:
            _pipeline = AuditPipeline.from_settings(settings())
        return _pipeline


def install_pipeline(pipeline: AuditPipeline | None) -> None:
    """Use ``pipeline`` for the handlers of this process (tests, `make dev`)."""
    global _pipeline
    with _lock:
        _pipeline = pipeline
