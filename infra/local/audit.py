"""The audit pipeline on this machine, for `make dev` and the tests: the audit queue
delivered to the consumer as Lambda's SQS event source mapping delivers it (batches of up to
ten, partial batch failures, failed messages visible again later, the queue's redrive policy
moving a message to the DLQ after maxReceiveCount receives), and the sweeper on a timer.

Never deployed: infra/ is not part of any function's code or layer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Delivery", "LocalAuditWorkers", "deliver_once", "drain", "lambda_sqs_event"]

Handler = Callable[[Mapping[str, Any], Any], Mapping[str, Any]]


def lambda_sqs_event(messages: list[Mapping[str, Any]], queue_arn: str) -> dict[str, Any]:
    """The event Lambda hands the consumer for ``messages`` (as ReceiveMessage gave them)."""
    region = queue_arn.split(":")[3] if queue_arn.count(":") >= 5 else ""
    return {
        "Records": [
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": dict(message.get("Attributes") or {}),
                "messageAttributes": dict(message.get("MessageAttributes") or {}),
                "md5OfBody": message.get("MD5OfBody", ""),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": region,
            }
            for message in messages
        ]
    }


@dataclass(frozen=True)
class Delivery:
    """One batch: how many messages were received, and the ids that failed."""

    received: int
    failed: frozenset[str]


def deliver_once(
    sqs: Any,
    queue_url: str,
    handler: Handler,
    *,
    wait_seconds: int = 0,
    visibility_timeout: int = 30,
    retry_after: int = 0,
) -> Delivery:
    """Receive one batch, run ``handler`` on it, delete what succeeded; what failed becomes
    visible again after ``retry_after`` seconds (Lambda leaves it for the visibility
    timeout; tests retry at once). A handler that raises fails the whole batch, as on
    Lambda (Powertools raises when every message of a batch failed)."""
    answer = sqs.receive_message(
        QueueUrl=queue_url,
        MaxNumberOfMessages=10,
        AttributeNames=["All"],
        MessageAttributeNames=["All"],
        WaitTimeSeconds=wait_seconds,
        VisibilityTimeout=visibility_timeout,
    )
    messages = answer.get("Messages") or []
    if not messages:
        return Delivery(0, frozenset())
    arn = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    event = lambda_sqs_event(messages, arn["Attributes"]["QueueArn"])
    try:
        response = handler(event, None)
        failed = {item["itemIdentifier"] for item in response.get("batchItemFailures", [])}
    except Exception:
        failed = {message["MessageId"] for message in messages}
    for message in messages:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=queue_url,
                ReceiptHandle=message["ReceiptHandle"],
                VisibilityTimeout=retry_after,
            )
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return Delivery(len(messages), frozenset(failed))


def drain(sqs: Any, queue_url: str, handler: Handler, *, max_batches: int = 200) -> list[Delivery]:
    """Deliver batches until the queue gives none (at most ``max_batches``: a bound, so a
    message that never succeeds ends in the DLQ or stops the loop, never hangs it)."""
    deliveries: list[Delivery] = []
    for _ in range(max_batches):
        delivery = deliver_once(sqs, queue_url, handler)
        if not delivery.received:
            break
        deliveries.append(delivery)
    return deliveries


class LocalAuditWorkers:
    """The consumer polling the audit queue and the sweeper on a timer, on two threads."""

    def __init__(
        self,
        sqs: Any,
        queue_url: str,
        consume: Handler,
        sweep: Callable[[], object],
        *,
        sweep_every: float = 5.0,
        on_error: Callable[[str, BaseException], None] = lambda where, error: None,
    ) -> None:
        self._sqs = sqs
        self._queue_url = queue_url
        self._consume = consume
        self._sweep = sweep
        self._sweep_every = sweep_every
        self._on_error = on_error
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self) -> None:
        for name, loop in (("audit-consumer", self._poll), ("audit-sweeper", self._sweeping)):
            thread = threading.Thread(target=loop, name=name, daemon=True)
            thread.start()
            self._threads.append(thread)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)

    def _poll(self) -> None:
        while not self._stop.is_set():
            try:
                # Long polling, as the event source mapping does; failures come back after
                # a few seconds rather than the queue's full visibility timeout.
                deliver_once(
                    self._sqs, self._queue_url, self._consume, wait_seconds=1, retry_after=3
                )
            except Exception as error:
                self._on_error("consumer", error)
                self._stop.wait(1)

    def _sweeping(self) -> None:
        while not self._stop.wait(self._sweep_every):
            try:
                self._sweep()
            except Exception as error:
                self._on_error("sweeper", error)
