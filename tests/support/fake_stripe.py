"""The fake Stripe (infra/local/fake_stripe) as the tests use it: a real server process on a
free port, reached by the real `stripe` SDK through ``api_base``, with the controls a
browser (Stripe Elements) or the Stripe dashboard would give.

    with FakeStripe() as fake:
        client = stripe.StripeClient(fake.secret_key, base_addresses={"api": fake.api_base})
        ...
        fake.pay(intent.id)                      # the buyer pays with a test card
        for delivery in fake.deliveries(after=n):  # what Stripe POSTed (or would have)
            stripe.Webhook.construct_event(delivery["body"], delivery["signature"],
                                           fake.connect_webhook_secret)
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path
from types import TracebackType
from typing import Any

from infra.local.fake_stripe.model import DEFAULT_CONNECT_SECRET, DEFAULT_PLATFORM_SECRET

__all__ = ["FakeStripe"]

ROOT = Path(__file__).resolve().parents[2]
READY = "fake Stripe listening on "


class FakeStripe:
    """``python -m infra.local.fake_stripe --port 0`` as a subprocess (its log in a file)."""

    secret_key = "sk_test_fake_for_tests"
    platform_webhook_secret = DEFAULT_PLATFORM_SECRET
    connect_webhook_secret = DEFAULT_CONNECT_SECRET

    def __init__(
        self,
        *,
        platform_webhook_url: str | None = None,
        connect_webhook_url: str | None = None,
        backoff: float = 0.2,
        startup_timeout: float = 20.0,
    ) -> None:
        self._args = ["--port", "0", "--backoff", str(backoff)]
        self._args += ["--platform-webhook-secret", self.platform_webhook_secret]
        self._args += ["--connect-webhook-secret", self.connect_webhook_secret]
        if platform_webhook_url:
            self._args += ["--platform-webhook-url", platform_webhook_url]
        if connect_webhook_url:
            self._args += ["--connect-webhook-url", connect_webhook_url]
        self._startup_timeout = startup_timeout
        self._process: subprocess.Popen[bytes] | None = None
        self._directory = tempfile.TemporaryDirectory(prefix="fake-stripe-")
        self.log_path = Path(self._directory.name) / "fake-stripe.log"
        self.api_base = ""

    @classmethod
    def running_at(cls, api_base: str) -> FakeStripe:
        """The controls of a fake already running at ``api_base`` (`make dev`'s)."""
        fake = cls()
        fake.api_base = api_base.rstrip("/")
        return fake

    # -- life ----------------------------------------------------------------------------

    def start(self) -> FakeStripe:
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join([str(ROOT), *filter(None, [env.get("PYTHONPATH")])])
        with self.log_path.open("wb") as log:
            self._process = subprocess.Popen(
                [sys.executable, "-m", "infra.local.fake_stripe", *self._args],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + self._startup_timeout
        while time.monotonic() < deadline:
            for line in self.log().splitlines():
                if line.startswith(READY):
                    self.api_base = line[len(READY) :].strip()
                    return self
            if self._process.poll() is not None:
                break
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"the fake Stripe did not start:\n{self.log()}")

    def stop(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait()
        self._process = None

    def close(self) -> None:
        self.stop()
        self._directory.cleanup()

    def __enter__(self) -> FakeStripe:
        return self.start()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def log(self) -> str:
        """What the server printed: its address and the delivery log."""
        try:
            return self.log_path.read_text()
        except FileNotFoundError:
            return ""

    # -- controls ------------------------------------------------------------------------

    def _call(self, method: str, path: str, payload: dict[str, Any] | None = None) -> Any:
        request = urllib.request.Request(  # noqa: S310 - loopback only
            self.api_base + path,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"Content-Type": "application/json"},
            method=method,
        )
        try:
            with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
                return json.load(response)
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{method} {path}: {error.code} {error.read()!r}") from None

    def deliveries(self, after: int = 0) -> list[dict[str, Any]]:
        """Every webhook delivery after ``seq``: endpoint, event_id, type, account, the exact
        signed body and its Stripe-Signature, and the POST attempts when a URL is set."""
        result: list[dict[str, Any]] = self._call("GET", f"/_fake/deliveries?after={after}")
        return result

    def last_seq(self) -> int:
        deliveries = self.deliveries()
        return int(deliveries[-1]["seq"]) if deliveries else 0

    def pay(self, payment_intent: str, card: str = "visa") -> dict[str, Any]:
        """The buyer pays ``payment_intent`` with a test card (visa, declined, pm_card_*)."""
        result: dict[str, Any] = self._call(
            "POST", f"/_fake/payment_intents/{payment_intent}/pay", {"card": card}
        )
        return result

    def complete_onboarding(self, account: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", f"/_fake/accounts/{account}/complete_onboarding", {}
        )
        return result

    def resend(self, event_id: str) -> dict[str, Any]:
        result: dict[str, Any] = self._call("POST", f"/_fake/events/{event_id}/resend", {})
        return result

    def set_webhooks(
        self, *, platform_url: str | None = None, connect_url: str | None = None
    ) -> dict[str, Any]:
        result: dict[str, Any] = self._call(
            "POST", "/_fake/webhooks", {"platform_url": platform_url, "connect_url": connect_url}
        )
        return result

    def reset(self) -> None:
        """Forget every object, event and delivery (and URLs set at run time)."""
        self._call("POST", "/_fake/reset", {})
