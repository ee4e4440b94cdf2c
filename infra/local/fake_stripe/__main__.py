"""The fake Stripe's command line.

    python -m infra.local.fake_stripe [--port 8420] [--platform-webhook-url URL]
        [--connect-webhook-url URL] [--platform-webhook-secret S] [--connect-webhook-secret S]
    python -m infra.local.fake_stripe pay <payment_intent_id> [--card visa|declined] [--url URL]
    python -m infra.local.fake_stripe onboard <account_id> [--url URL]

The secrets default to STRIPE_WEBHOOK_SECRET / STRIPE_CONNECT_WEBHOOK_SECRET, else
whsec_fake_platform / whsec_fake_connect. ``pay`` and ``onboard`` find the running fake at
--url, else STRIPE_API_BASE, else where `make dev` recorded it, else the default port.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import urllib.error
import urllib.request
from typing import Any

from infra.local import state
from infra.local.fake_stripe.local import recorded_url
from infra.local.fake_stripe.model import DEFAULT_CONNECT_SECRET, DEFAULT_PLATFORM_SECRET
from infra.local.fake_stripe.server import DEFAULT_PORT, FakeStripeServer


def running_url() -> str:
    """Where the running fake listens (for ``pay`` and ``onboard``)."""
    if os.environ.get("STRIPE_API_BASE"):
        return os.environ["STRIPE_API_BASE"].rstrip("/")
    return recorded_url(state.state_dir()) or f"http://{state.HOST}:{DEFAULT_PORT}"


def _post(url: str, payload: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    request = urllib.request.Request(  # noqa: S310 - the fake's own http URL
        url,
        data=json.dumps(payload).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310 # nosec B310 (local)
            return response.status, dict(json.load(response))
    except urllib.error.HTTPError as error:
        return error.code, dict(json.load(error))


def _control(url: str, payload: dict[str, Any]) -> dict[str, Any] | int:
    """POST a test control: its answer, or the exit status after saying what went wrong."""
    try:
        status, body = _post(url, payload)
    except OSError as error:
        print(f"no fake Stripe at {url} ({error}); is `make dev` running?", file=sys.stderr)
        return 2
    if status != 200:
        print(body.get("error", {}).get("message", body), file=sys.stderr)
        return 1
    return body


def pay(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.fake_stripe pay")
    parser.add_argument("payment_intent")
    parser.add_argument("--card", default="visa", help="visa (default), declined, or a pm_card_*")
    parser.add_argument("--url", default=None, help="the fake's address")
    args = parser.parse_args(argv)
    base = (args.url or running_url()).rstrip("/")
    body = _control(f"{base}/_fake/payment_intents/{args.payment_intent}/pay", {"card": args.card})
    if isinstance(body, int):
        return body
    line = f"{body['id']}: {body['status']}"
    if body.get("last_payment_error"):
        line += f" ({body['last_payment_error']['message']})"
    elif body.get("latest_charge"):
        line += f" (charge {body['latest_charge']}, {body['amount']} {body['currency']})"
    print(line)
    return 0 if body["status"] == "succeeded" else 1


def onboard(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.fake_stripe onboard")
    parser.add_argument("account")
    parser.add_argument("--url", default=None, help="the fake's address")
    args = parser.parse_args(argv)
    base = (args.url or running_url()).rstrip("/")
    body = _control(f"{base}/_fake/accounts/{args.account}/complete_onboarding", {})
    if isinstance(body, int):
        return body
    print(f"{body['id']}: charges_enabled={body['charges_enabled']}")
    return 0


def serve(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="python -m infra.local.fake_stripe")
    parser.add_argument("--host", default=state.HOST)
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help="0: any free port")
    parser.add_argument("--platform-webhook-url", default=None)
    parser.add_argument("--connect-webhook-url", default=None)
    parser.add_argument(
        "--platform-webhook-secret",
        default=os.environ.get("STRIPE_WEBHOOK_SECRET") or DEFAULT_PLATFORM_SECRET,
    )
    parser.add_argument(
        "--connect-webhook-secret",
        default=os.environ.get("STRIPE_CONNECT_WEBHOOK_SECRET") or DEFAULT_CONNECT_SECRET,
    )
    parser.add_argument("--max-attempts", type=int, default=4, help="webhook POSTs per event")
    parser.add_argument("--backoff", type=float, default=0.5, help="first retry after (s)")
    args = parser.parse_args(argv)
    server = FakeStripeServer(
        args.host,
        args.port,
        platform_webhook_url=args.platform_webhook_url,
        connect_webhook_url=args.connect_webhook_url,
        platform_webhook_secret=args.platform_webhook_secret,
        connect_webhook_secret=args.connect_webhook_secret,
        max_attempts=args.max_attempts,
        first_backoff=args.backoff,
        log=lambda line: print(line, flush=True),
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print(f"fake Stripe listening on {server.url}", flush=True)
    with contextlib.suppress(KeyboardInterrupt, SystemExit):
        server.serve_forever()
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"pay": pay, "onboard": onboard}
    if argv and argv[0] in commands:
        return commands[argv[0]](argv[1:])
    return serve(argv)


if __name__ == "__main__":
    sys.exit(main())
