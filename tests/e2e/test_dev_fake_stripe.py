"""`make dev` runs the fake Stripe: the runtime is pointed at it, its webhooks go to the
local gateway's Stripe routes, and `make pay` pays a PaymentIntent on it."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from infra.local.fake_stripe.local import LOCAL_SECRET_KEY, recorded_url
from tests.conftest import ROOT
from tests.support.dev_stack import DevStack, dev_stack
from tests.support.fake_stripe import FakeStripe


@pytest.fixture(scope="module")
def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(server_url, tmp_path_factory.mktemp("dev-state")) as running:
        yield running


def make(command: str, state: Path) -> subprocess.CompletedProcess[str]:
    """A make target run as a person would in another terminal (this test's interpreter)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STRIPE_", "PORT"))}
    env |= {"DEV_STATE_DIR": str(state), "MAKEFLAGS": f"BIN={Path(sys.executable).parent}"}
    return subprocess.run(
        ["make", "-s", *command.split()],  # noqa: S607 - make from PATH, as a person runs it
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_make_dev_runs_the_fake_stripe_and_delivers_to_the_gateway(stack: DevStack) -> None:
    """Given `make dev` running, when a venue's account is onboarded on its fake Stripe and a
    checkout's PaymentIntent is paid with `make pay`, then the banner names the fake, the
    payment succeeds, and every event was POSTed, signed, to the gateway's Stripe routes
    (which answered: what they say is theirs)."""
    base = recorded_url(stack.state)
    assert base is not None
    banner = "".join(stack.banner)
    assert f"fake Stripe on {base}" in banner
    assert "make -s pay PI=pi_..." in banner
    client = stripe.StripeClient(LOCAL_SECRET_KEY, base_addresses={"api": base})
    account = client.v1.accounts.create(params={"type": "express", "country": "GB"})
    fake = FakeStripe.running_at(base)
    fake.complete_onboarding(account.id)
    intent = client.v1.payment_intents.create(
        params={"amount": 1200, "currency": "gbp", "application_fee_amount": 60},
        options={"stripe_account": account.id},
    )

    paid = make(f"pay PI={intent.id}", stack.state)

    assert paid.returncode == 0, paid.stderr
    assert paid.stdout.startswith(f"{intent.id}: succeeded")
    deliveries: list[dict[str, Any]] = []
    deadline = time.monotonic() + 60  # a guard against a hang, not a measurement
    while time.monotonic() < deadline:
        deliveries = fake.deliveries()
        if deliveries and all(d["attempts"] for d in deliveries):
            break
        time.sleep(0.1)
    routes = {
        "platform": f"{stack.url}/webhooks/stripe",
        "connect": f"{stack.url}/webhooks/stripe/connect",
    }
    assert {d["type"] for d in deliveries} >= {"account.updated", "payment_intent.succeeded"}
    for delivery in deliveries:
        assert delivery["url"] == routes[delivery["endpoint"]]
        assert isinstance(delivery["attempts"][0]["status"], int), delivery["attempts"]
