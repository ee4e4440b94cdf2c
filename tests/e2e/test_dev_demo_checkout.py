"""`make demo-checkout` on a running `make dev`: one online order end to end over real
HTTP (onboarding centrale if it needs it, the checkout, the payment in the fake Stripe,
Stripe's webhook POSTed to the gateway, the processor), and the order printed from the
queue; the stored events then listed by `make payments-events`."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from tests.e2e.test_dev_fake_stripe import make
from tests.support.dev_stack import DevStack, dev_stack


@pytest.fixture(scope="module")
def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(server_url, tmp_path_factory.mktemp("dev-state")) as running:
        yield running


def test_one_command_pays_an_online_order_end_to_end(stack: DevStack) -> None:
    paid = make("demo-checkout", stack.state)

    assert paid.returncode == 0, paid.stdout + paid.stderr
    assert "awaiting payment" in paid.stdout
    assert "placed by Stripe's webhook; in centrale's queue:" in paid.stdout
    order = json.loads(paid.stdout.split("in centrale's queue:", 1)[1])
    assert (order["status"], order["channel"]) == ("placed", "online")
    assert (
        sum(i["quantity"] * i["unit_price_cents"] for i in order["items"]) == order["total_cents"]
    )

    again = make("demo-checkout", stack.state)
    events = make("payments-events", stack.state)

    assert again.returncode == 0, again.stderr
    assert "(created)" not in again.stdout  # centrale was onboarded by the first run
    assert events.returncode == 0, events.stderr
    assert events.stdout.count("payment_intent.succeeded") == 2
    assert "processed" in events.stdout
