"""The audit consumer: Lambda on the SQS FIFO audit queue, reporting partial batch failures
(``ReportBatchItemFailures``) through Powertools' FIFO batch processor.

Per message (one event, named by id): append it to its venue's chain in ``audit_log`` and
mark the outbox row consumed, in one transaction as app_audit (functions/audit/chain.py);
then put the canonical event into the object-locked bucket (copies.py); then publish its
alert if it is critical and its bucket allowed one (alerts.py). A message is deleted only
when all three are done, so a crash anywhere means redelivery, and each step is idempotent:
the row is found by event id, the object by its key, the alert by ``audit_alerts``.

Messages of one venue are appended together, in one transaction per venue per batch (the
database's part of the cost is per transaction, not per event); a message that fails is
reported alone and, with ``skip_group_on_error``, so are the later messages of its venue
(FIFO order), while other venues' messages go on. An unreadable message (not JSON, an
unknown schema version, an event nobody committed) fails every time and goes to the
dead-letter queue after the queue's maxReceiveCount.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from audit import alerts, chain
from audit.chain import Logged
from audit.pipeline import AuditPipeline, current_pipeline
from tenancy.audit import OutboxEvent, UnreadableMessage, parse_message

__all__ = ["MissingEvent", "consume", "handler"]


class MissingEvent(LookupError):
    """A message names an event the outbox does not hold, holds for another venue, or says
    was consumed although the log lacks it: it can never be appended."""


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, current_pipeline(), context)


def consume(
    event: Mapping[str, Any], pipeline: AuditPipeline, context: Any = None
) -> dict[str, Any]:
    """One batch of audit messages; the ids of those that failed (``batchItemFailures``)."""
    ready = _append_batch(pipeline, event.get("Records") or [])
    processor = SqsFifoPartialProcessor(skip_group_on_error=True)

    def record_handler(record: SQSRecord) -> None:
        _deliver(pipeline, record, ready)

    response = process_partial_response(
        event=dict(event), record_handler=record_handler, processor=processor, context=context
    )
    return dict(response)


def _append_batch(
    pipeline: AuditPipeline, records: list[Mapping[str, Any]]
) -> dict[uuid.UUID, Logged]:
    """The batch's readable messages appended, one transaction per venue. Best effort: what
    fails here is tried again, message by message, where its failure is reported."""
    readable: list[OutboxEvent] = []
    for record in records:
        try:
            readable.append(parse_message(str(record.get("body", ""))))
        except UnreadableMessage:
            continue
    ready: dict[uuid.UUID, Logged] = {}
    grouped = chain.chains((event.id, event.venue_id) for event in readable)
    for venue_id, event_ids in grouped.items():
        try:
            with pipeline.database.connection() as conn:
                appended = chain.append(conn, venue_id, event_ids, pipeline.limits)
        except Exception as error:  # retried per message below
            pipeline.log.warning("audit batch append failed", error=type(error).__name__)
            continue
        ready.update(appended.logged)
    return ready


def _deliver(pipeline: AuditPipeline, record: SQSRecord, ready: Mapping[uuid.UUID, Logged]) -> None:
    log = pipeline.log.bind(
        message_id=record.message_id,
        receive_count=record.attributes.approximate_receive_count,
    )
    try:
        event = parse_message(record.body)
        logged = ready.get(event.id) or _append_one(pipeline, event)
        if logged.venue_id != event.venue_id:
            raise MissingEvent("the message names another venue than the event's")
        if not logged.intact:
            raise chain.TamperedRow(f"audit_log row {logged.event_id} does not hash to itself")
        pipeline.copies.put(logged)
        if logged.alert_due:
            with pipeline.database.connection() as conn:
                alerts.deliver(conn, pipeline.alerts, logged)
    except UnreadableMessage as error:
        log.warning("unreadable audit message", reason=str(error))
        raise
    except Exception as error:
        log.exception("audit message failed", error=type(error).__name__)
        pipeline.report(error)
        raise


def _append_one(pipeline: AuditPipeline, event: OutboxEvent) -> Logged:
    with pipeline.database.connection() as conn:
        appended = chain.append(conn, event.venue_id, [event.id], pipeline.limits)
    if event.id not in appended.logged:
        if event.id in appended.vanished:
            raise chain.TamperedRow(f"event {event.id} was consumed but is not in audit_log")
        raise MissingEvent(f"no outbox event {event.id} in this venue")
    return appended.logged[event.id]
