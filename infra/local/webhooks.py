"""The webhook queue on this machine, for `make dev`: what the webhook routes send goes to
a worker thread that runs the processor (functions/webhooks/processor.py) as Lambda's SQS
event source would, one account's events in order, a failure retried a few times with a
pause, then left `failed` in stripe_events for `make payments-replay`.

Never deployed: infra/ is not part of any function's code or layer.
"""

from __future__ import annotations

import queue
import threading
import time

from tenancy.log import Log
from tenancy.payments import WebhookMessage, WebhookQueue
from webhooks.processor import Processor, process

__all__ = ["LocalWebhookWorker"]

ATTEMPTS = 5


class LocalWebhookWorker:
    def __init__(self, processor: Processor, *, pause: float = 0.5, log: Log | None = None):
        self.processor = processor
        self.pause = pause
        self.log = log or Log()
        self._queue: queue.Queue[WebhookMessage | None] = queue.Queue()
        self._thread = threading.Thread(target=self._run, name="webhook-worker", daemon=True)

    def queue(self) -> WebhookQueue:
        """What the runtime's webhook routes send to."""
        return WebhookQueue(self._queue.put)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.put(None)
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while (message := self._queue.get()) is not None:
            for attempt in range(1, ATTEMPTS + 1):
                try:
                    outcome = process(self.processor, message.event_id)
                except Exception as error:
                    self.log.warning(
                        "webhook event failed",
                        event_id=message.event_id,
                        attempt=attempt,
                        error=type(error).__name__,
                    )
                    time.sleep(self.pause * attempt)
                    continue
                self.log.info("webhook event settled", event_id=message.event_id, outcome=outcome)
                break
