"""The relay: after a request's transaction has committed, its audit events go to the SQS
FIFO audit queue, one message per event (group: the venue; deduplication id: the event id).

A send that fails is logged and dropped, never raised: the user's change is committed and
its event is safe in the outbox, where the sweeper (functions/audit/sweep.py) finds it and
sends it again. boto3 is imported, and the client built, on the first event a container
relays; a request that records no event pays nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from tenancy.audit import OutboxEvent
from tenancy.log import Log

__all__ = ["Relay", "SqsRelay", "no_relay", "queue_entries"]

#: What the gate calls after commit with the request's events (never empty).
Relay = Callable[[Sequence[OutboxEvent]], None]

#: SendMessageBatch takes at most ten entries.
BATCH = 10


def no_relay(events: Sequence[OutboxEvent]) -> None:
    """A function without the audit queue (or a test) relays nothing: the sweeper will."""


def queue_entries(events: Sequence[OutboxEvent]) -> list[dict[str, str]]:
    """SendMessageBatch entries for ``events``: the FIFO group is the venue, the
    deduplication id the event id (a second send of one event within five minutes is
    dropped by SQS; a later one is harmless, the consumer is idempotent)."""
    return [
        {
            "Id": str(index),
            "MessageBody": event.message_body(),
            "MessageGroupId": event.group,
            "MessageDeduplicationId": str(event.id),
        }
        for index, event in enumerate(events)
    ]


def send_batches(client: Any, queue_url: str, events: Sequence[OutboxEvent]) -> list[OutboxEvent]:
    """Send ``events`` in batches of ten; the events SQS did not take."""
    failed: list[OutboxEvent] = []
    for start in range(0, len(events), BATCH):
        chunk = events[start : start + BATCH]
        answer = client.send_message_batch(QueueUrl=queue_url, Entries=queue_entries(chunk))
        failed += [chunk[int(item["Id"])] for item in answer.get("Failed", [])]
    return failed


class SqsRelay:
    """Sends a request's committed audit events to ``queue_url``; never raises."""

    def __init__(
        self,
        queue_url: str,
        *,
        client: Callable[[], Any] | None = None,
        log: Log | None = None,
    ) -> None:
        self.queue_url = queue_url
        self._make_client = client or _sqs_client
        self._client: Any = None
        self._lock = threading.Lock()
        self._log = log or Log()

    def _sqs(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def __call__(self, events: Sequence[OutboxEvent]) -> None:
        try:
            failed = send_batches(self._sqs(), self.queue_url, events)
        except Exception as error:  # a send failure must not fail the request
            self._log.warning(
                "audit relay failed; the sweeper will send the events",
                events=[str(event.id) for event in events],
                error=type(error).__name__,
            )
            return
        if failed:
            self._log.warning(
                "audit queue refused events; the sweeper will send them",
                events=[str(event.id) for event in failed],
            )


def _sqs_client() -> Any:
    import boto3
    from botocore.config import Config

    # Short timeouts: the user is waiting, and the sweeper covers a slow queue.
    config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2})
    return boto3.client("sqs", config=config)
