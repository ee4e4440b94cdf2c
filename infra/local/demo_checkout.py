"""`make demo-checkout`: one online order end to end on the running `make dev`.

1. Centrale's owner makes sure centrale can take card payments: its Express account is made
   through the route if it has none, and onboarded in the fake Stripe (as the owner would on
   Stripe's pages); Stripe's account.updated webhook turns charges on.
2. The waiter starts a checkout (two tagliatelle, one tiramisù): an order draft, in no
   queue, and a PaymentIntent on centrale's account; the answer is its client secret.
3. The diner pays in the fake Stripe (what Stripe Elements does with a test card).
4. Stripe's signed payment_intent.succeeded reaches the webhook route; the processor places
   the order. This waits until the order is in centrale's queue, then prints it.
"""

from __future__ import annotations

import json
import sys
import time
import urllib.error
import urllib.request
import uuid
from typing import Any

from infra.local.fake_stripe.local import recorded_url
from infra.local.seed import CENTRALE, USER, menu_item_id
from infra.local.signin import sign_in_over_http
from infra.local.state import dev_url, state_dir

WAIT_SECONDS = 20.0


def call(base: str, token: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
    request = urllib.request.Request(  # noqa: S310 - the local stack
        base + path,
        data=None if body is None else json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
        method=method,
    )
    try:
        with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 # nosec B310 (local stack)
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read() or b"null")


def control(stripe_base: str, path: str, body: Any) -> Any:
    request = urllib.request.Request(  # noqa: S310 - the local fake Stripe
        stripe_base + path,
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=15) as response:  # noqa: S310 # nosec B310 (local stack)
        return json.load(response)


def wait_for(what: str, check: Any) -> Any:
    deadline = time.monotonic() + WAIT_SECONDS
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.25)
    raise SystemExit(f"gave up waiting for {what} (see `make payments-events`)")


def main() -> int:
    base = dev_url()
    stripe_base = recorded_url(state_dir())
    if stripe_base is None:
        print("the fake Stripe is not running: start `make dev` first", file=sys.stderr)
        return 2
    try:
        owner = sign_in_over_http(base, USER["owner"].email)["access_token"]
        waiter = sign_in_over_http(base, USER["waiter"].email)["access_token"]
    except urllib.error.URLError:
        print(f"nothing answers on {base}: start `make dev` first", file=sys.stderr)
        return 2
    venue = f"/venues/{CENTRALE}"

    status, account = call(base, owner, "GET", f"{venue}/payments/status")
    if status == 404:
        status, account = call(base, owner, "POST", f"{venue}/payments/account")
        print(f"centrale's Express account: {account['stripe_account_id']} (created)")
    if not account["charges_enabled"]:
        control(
            stripe_base, f"/_fake/accounts/{account['stripe_account_id']}/complete_onboarding", {}
        )
        wait_for(
            "account.updated to enable charges",
            lambda: call(base, owner, "GET", f"{venue}/payments/status")[1]["charges_enabled"],
        )
        print("centrale onboarded: charges enabled by Stripe's account.updated")

    status, started = call(
        base,
        waiter,
        "POST",
        f"{venue}/checkouts",
        {
            "lines": [
                {"item_id": str(menu_item_id("Tagliatelle al ragù")), "quantity": 2},
                {"item_id": str(menu_item_id("Tiramisù")), "quantity": 1},
            ],
            "table_label": "web",
            "idempotency_key": f"demo-{uuid.uuid4().hex}",
        },
    )
    if status != 201:
        print(f"the checkout was refused: {status} {started}", file=sys.stderr)
        return 1
    intent = started["client_secret"].split("_secret_")[0]
    print(
        f"checkout {started['checkout_id']}: {started['amount_cents']} {started['currency']}"
        f" awaiting payment (PaymentIntent {intent})"
    )
    paid = control(stripe_base, f"/_fake/payment_intents/{intent}/pay", {"card": "visa"})
    print(f"paid in the fake Stripe: {paid['status']}")
    checkout = f"{venue}/checkouts/{started['checkout_id']}"

    def placed() -> Any:
        found = call(base, waiter, "GET", checkout)[1]
        return found if found.get("status") == "placed" else None

    state = wait_for("the webhook to place the order", placed)
    _, order = call(base, waiter, "GET", f"{venue}/orders/{state['order_id']}")
    print("placed by Stripe's webhook; in centrale's queue:")
    print(json.dumps(order, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
