"""The sweeper: a scheduled Lambda (every minute) that makes the pipeline whole again.

- Outbox events older than ``SWEEP_AFTER`` and still not consumed are sent to the audit
  queue again: the relay's send failed, or its container died between the commit and the
  send. The consumer is idempotent, so an event sent twice is appended once.
- Allowed alerts that SNS never took (their message went to the dead-letter queue after
  the append) are published.
- Each alert bucket that held alerts back since the last run gets one summary message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from audit import alerts
from audit.pipeline import AuditPipeline, current_pipeline
from tenancy.audit import OutboxEvent
from tenancy.relay import send_batches

__all__ = ["handler", "resend_outbox", "sweep"]

_UNCONSUMED = """
SELECT id, venue_id FROM public.audit_outbox
WHERE published_at IS NULL AND occurred_at < now() - make_interval(secs => %(after)s)
ORDER BY occurred_at
LIMIT %(limit)s
"""


def handler(event: Mapping[str, Any], context: Any) -> dict[str, int]:
    return sweep(current_pipeline())


def resend_outbox(
    pipeline: AuditPipeline, older_than: dt.timedelta | None = None, limit: int = 500
) -> int:
    """Send unconsumed outbox events older than ``older_than`` to the queue; how many."""
    after = pipeline.sweep_after if older_than is None else older_than
    with pipeline.database.connection() as conn, conn.request():
        rows = conn.execute(
            _UNCONSUMED, {"after": after.total_seconds(), "limit": limit}
        ).fetchall()
    events = [OutboxEvent(event_id, venue_id) for event_id, venue_id in rows]
    if events:
        assert pipeline.sqs is not None, "the sweeper needs the audit queue"
        failed = send_batches(pipeline.sqs(), pipeline.queue_url, events)
        if failed:
            raise RuntimeError(f"the audit queue refused {len(failed)} of {len(events)} events")
    return len(events)


def sweep(pipeline: AuditPipeline, older_than: dt.timedelta | None = None) -> dict[str, int]:
    """One run of the sweeper: what it sent again, alerted and summarised."""
    after = pipeline.sweep_after if older_than is None else older_than
    resent = resend_outbox(pipeline, after)
    with pipeline.database.connection() as conn:
        alerted = alerts.resend_unsent(conn, pipeline.alerts, after)
        summaries = alerts.flush_summaries(conn, pipeline.alerts)
    counts = {"resent": resent, "alerts": alerted, "summaries": summaries}
    if any(counts.values()):
        pipeline.log.info("audit sweep", **counts)
    return counts
