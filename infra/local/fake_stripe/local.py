"""The fake Stripe in `make dev`: started beside the gateway, its webhooks pointed at the
gateway's Stripe routes, and the runtime's Stripe settings pointed at it."""

from __future__ import annotations

import os
from collections.abc import MutableMapping
from pathlib import Path

from infra.local.fake_stripe.model import DEFAULT_CONNECT_SECRET, DEFAULT_PLATFORM_SECRET
from infra.local.fake_stripe.server import DEFAULT_PORT, FakeStripeServer

__all__ = ["LOCAL_SECRET_KEY", "URL_FILE", "recorded_url", "start_for_dev"]

#: Any sk_test_ key opens the fake; this one is `make dev`'s.
LOCAL_SECRET_KEY = "sk_test_local_dev"  # noqa: S105 - opens nothing but the local fake
#: Where `make dev` records the fake's address in its state folder (for the `pay` command).
URL_FILE = "fake-stripe-url"
PLATFORM_PATH = "/webhooks/stripe"
CONNECT_PATH = "/webhooks/stripe/connect"


def start_for_dev(
    gateway_url: str,
    state_dir: Path,
    host: str,
    env: MutableMapping[str, str] | None = None,
) -> tuple[FakeStripeServer, dict[str, str]]:
    """Start the fake on STRIPE_PORT (by default 8420; any free port when that one is taken
    and STRIPE_PORT is unset), delivering to the gateway; set and return the runtime's
    STRIPE_* settings."""
    env = os.environ if env is None else env
    platform_secret = env.get("STRIPE_WEBHOOK_SECRET") or DEFAULT_PLATFORM_SECRET
    connect_secret = env.get("STRIPE_CONNECT_WEBHOOK_SECRET") or DEFAULT_CONNECT_SECRET

    def listen(port: int) -> FakeStripeServer:
        return FakeStripeServer(
            host,
            port,
            platform_webhook_url=gateway_url + PLATFORM_PATH,
            connect_webhook_url=gateway_url + CONNECT_PATH,
            platform_webhook_secret=platform_secret,
            connect_webhook_secret=connect_secret,
            log=lambda line: print(f"[fake stripe] {line}", flush=True),
        )

    try:
        server = listen(int(env.get("STRIPE_PORT") or DEFAULT_PORT))
    except OSError:
        if env.get("STRIPE_PORT"):
            raise
        server = listen(0)  # another stack has the default port: any free one
    server.start()
    state_dir.mkdir(parents=True, exist_ok=True)
    (state_dir / URL_FILE).write_text(server.url + "\n")
    settings = {
        "STRIPE_API_BASE": server.url,
        "STRIPE_SECRET_KEY": LOCAL_SECRET_KEY,
        "STRIPE_WEBHOOK_SECRET": platform_secret,
        "STRIPE_CONNECT_WEBHOOK_SECRET": connect_secret,
    }
    env.update(settings)
    return server, settings


def recorded_url(state_dir: Path) -> str | None:
    """The address the running `make dev` recorded for its fake Stripe, if any."""
    try:
        return (state_dir / URL_FILE).read_text().strip() or None
    except FileNotFoundError:
        return None
