"""Webhook deliveries as Stripe makes them: the event's JSON body, signed with the
endpoint's secret (``Stripe-Signature: t=<unix>,v1=<hex HMAC-SHA256(secret, "t.body")>``),
kept in an outbox and POSTed to the endpoint's URL when one is set, retried with backoff
on anything but a 2xx."""

from __future__ import annotations

import hashlib
import hmac
import json
import queue
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Endpoint = Literal["platform", "connect"]

__all__ = ["Delivery", "Endpoint", "Outbox", "sign"]


def sign(secret: str, body: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header Stripe sends with ``body``."""
    t = int(time.time()) if timestamp is None else timestamp
    digest = hmac.new(secret.encode(), f"{t}.{body}".encode(), hashlib.sha256).hexdigest()
    return f"t={t},v1={digest}"


@dataclass
class Delivery:
    seq: int
    endpoint: Endpoint
    event_id: str
    type: str
    account: str | None
    body: str
    signature: str
    url: str | None
    generation: int
    attempts: list[dict[str, Any]] = field(default_factory=list)
    delivered: bool | None = None  # None: no URL, or not attempted yet

    def export(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "endpoint": self.endpoint,
            "event_id": self.event_id,
            "type": self.type,
            "account": self.account,
            "body": self.body,
            "signature": self.signature,
            "url": self.url,
            "attempts": list(self.attempts),
            "delivered": self.delivered,
        }


def _checked(url: str | None) -> str | None:
    if url and not url.startswith(("http://", "https://")):
        raise ValueError(f"a webhook URL must be http(s): {url!r}")
    return url or None


class Outbox:
    """Every delivery, in order; those with a URL are POSTed by one worker thread (first
    attempts in order), and retried by timers so that a failing endpoint holds up nobody."""

    def __init__(
        self,
        secrets: dict[Endpoint, str],
        urls: dict[Endpoint, str | None],
        *,
        max_attempts: int = 4,
        first_backoff: float = 0.5,
        log: Callable[[str], None] = print,
    ) -> None:
        self.secrets = dict(secrets)
        self._initial_urls = {endpoint: _checked(url) for endpoint, url in urls.items()}
        self.urls = dict(urls)
        self.max_attempts = max_attempts
        self.first_backoff = first_backoff
        self._log = log
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._last_seq = 0  # never reused, across resets too
        self._generation = 0
        self._queue: queue.Queue[tuple[Delivery, int] | None] = queue.Queue()
        self._timers: set[threading.Timer] = set()
        self._worker = threading.Thread(target=self._work, name="fake-stripe-webhooks")
        self._worker.daemon = True
        self._worker.start()

    def add(self, event: dict[str, Any]) -> Delivery:
        """Sign ``event`` for its endpoint, keep it, and send it if a URL is set."""
        endpoint: Endpoint = "connect" if event.get("account") else "platform"
        body = json.dumps(event, indent=2)
        with self._lock:
            self._last_seq += 1
            delivery = Delivery(
                seq=self._last_seq,
                endpoint=endpoint,
                event_id=event["id"],
                type=event["type"],
                account=event.get("account"),
                body=body,
                signature=sign(self.secrets[endpoint], body),
                url=self.urls.get(endpoint),
                generation=self._generation,
            )
            self._deliveries.append(delivery)
        if delivery.url:
            self._queue.put((delivery, 1))
        return delivery

    def after(self, seq: int) -> list[dict[str, Any]]:
        with self._lock:
            return [d.export() for d in self._deliveries if d.seq > seq]

    def has_url(self, endpoint: Endpoint) -> bool:
        return bool(self.urls.get(endpoint))

    def configure(self, changes: dict[Endpoint, str | None]) -> None:
        checked = {endpoint: _checked(url) for endpoint, url in changes.items()}
        with self._lock:
            self.urls.update(checked)

    def reset(self) -> None:
        """Forget every delivery (pending retries are dropped) and the URLs set at run time."""
        with self._lock:
            self._generation += 1
            self._deliveries.clear()
            self.urls = dict(self._initial_urls)
            for timer in self._timers:
                timer.cancel()
            self._timers.clear()

    def stop(self) -> None:
        self.reset()
        self._queue.put(None)
        self._worker.join(timeout=5)

    def _work(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            delivery, attempt = item
            if delivery.generation == self._generation:
                self._attempt(delivery, attempt)

    def _attempt(self, delivery: Delivery, attempt: int) -> None:
        url = delivery.url
        assert url is not None
        # Each attempt is signed anew (as Stripe does), so that retries stay in tolerance.
        signature = sign(self.secrets[delivery.endpoint], delivery.body)
        request = urllib.request.Request(  # noqa: S310 - an http(s) URL, checked when set
            url,
            data=delivery.body.encode(),
            method="POST",
            headers={
                "Content-Type": "application/json; charset=utf-8",
                "Stripe-Signature": signature,
                "User-Agent": "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
            },
        )
        status: int | None = None
        error: str | None = None
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 # nosec B310 (local)
                status = response.status
        except urllib.error.HTTPError as failure:
            status = failure.code
        except (OSError, ValueError) as failure:
            error = type(failure).__name__
        ok = status is not None and 200 <= status < 300
        with self._lock:
            if delivery.generation != self._generation:
                return
            delivery.attempts.append(
                {"attempt": attempt, "at": int(time.time()), "status": status, "error": error}
            )
            delivery.delivered = ok
        outcome = str(status) if status is not None else error
        self._log(
            f"webhook #{delivery.seq} {delivery.type} ({delivery.event_id}) -> "
            f"{delivery.endpoint} {url}: {outcome} (attempt {attempt}/{self.max_attempts})"
        )
        if ok or attempt >= self.max_attempts:
            return
        delay = self.first_backoff * 2 ** (attempt - 1)
        timer = threading.Timer(delay, self._retry, args=(delivery, attempt + 1))
        timer.daemon = True
        with self._lock:
            self._timers.add(timer)
        timer.start()

    def _retry(self, delivery: Delivery, attempt: int) -> None:
        with self._lock:
            self._timers = {t for t in self._timers if t.is_alive()}
        self._queue.put((delivery, attempt))
