"""The webhook processor's Lambda: on the SQS FIFO webhook queue (group: the connected
account), reporting partial batch failures through Powertools' FIFO batch processor, as
the audit consumer does. Each message names a stored event (functions/webhooks/processor.py
applies it); a message that fails is retried, and the later messages of its account wait
(``skip_group_on_error``), so one account's events are applied in order. A message that is
not ours fails every time and goes to the dead-letter queue."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from aws_lambda_powertools.utilities.batch import (
    SqsFifoPartialProcessor,
    process_partial_response,
)
from aws_lambda_powertools.utilities.data_classes.sqs_event import SQSRecord

from tenancy.payments import WebhookMessage
from webhooks.processor import Processor, current_processor, process

__all__ = ["consume", "handler"]


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    return consume(event, current_processor(), context)


def consume(event: Mapping[str, Any], processor: Processor, context: Any = None) -> dict[str, Any]:
    """One batch of webhook messages; the ids of those that failed (``batchItemFailures``)."""
    batch = SqsFifoPartialProcessor(skip_group_on_error=True)

    def record_handler(record: SQSRecord) -> None:
        log = processor.log.bind(message_id=record.message_id)
        try:
            event_id = WebhookMessage.parse(record.body)
        except ValueError as error:
            log.warning("unreadable webhook message", reason=str(error))
            raise
        try:
            outcome = process(processor, event_id)
        except Exception as error:
            log.exception("webhook event failed", event_id=event_id, error=type(error).__name__)
            processor.report(error)
            raise
        log.info("webhook event settled", event_id=event_id, outcome=outcome)

    response = process_partial_response(
        event=dict(event), record_handler=record_handler, processor=batch, context=context
    )
    return dict(response)
