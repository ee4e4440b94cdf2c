"""The fake Stripe of `make dev` and the tests, driven by the real `stripe` SDK against the
real server process: Connect Express onboarding, PaymentIntents on a connected account with
the platform's fee and idempotency keys, payments, declines, refunds, and webhooks signed
as Stripe signs them (checked by the SDK's own ``Webhook.construct_event``)."""

from __future__ import annotations

import ipaddress
import json
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from infra.local.fake_stripe import API_VERSION
from tests.conftest import ROOT
from tests.support.fake_stripe import FakeStripe

_connect = socket.socket.connect
PAY = [sys.executable, "-m", "infra.local.fake_stripe", "pay"]


@pytest.fixture(autouse=True)
def only_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Nothing in these tests reaches beyond this machine: a connection to any address but
    the loopback fails the test."""

    def connect(self: socket.socket, address: Any) -> None:
        host = address[0] if isinstance(address, tuple) else None
        if host is not None and not ipaddress.ip_address(host).is_loopback:
            raise AssertionError(f"a test tried to reach {host}")
        _connect(self, address)

    monkeypatch.setattr(socket.socket, "connect", connect)


@pytest.fixture
def client(fake_stripe: FakeStripe) -> stripe.StripeClient:
    return stripe.StripeClient(
        fake_stripe.secret_key,
        base_addresses={"api": fake_stripe.api_base},
        max_network_retries=0,
    )


def express_account(client: stripe.StripeClient, **metadata: str) -> stripe.Account:
    return client.v1.accounts.create(
        params={
            "type": "express",
            "country": "GB",
            "email": "owner@venue.example",
            "capabilities": {
                "card_payments": {"requested": True},
                "transfers": {"requested": True},
            },
            "metadata": metadata,
        }
    )


def onboarded_account(client: stripe.StripeClient, fake: FakeStripe) -> stripe.Account:
    account = express_account(client)
    fake.complete_onboarding(account.id)
    return account


def checkout(
    client: stripe.StripeClient, account: str, key: str, amount: int = 2500, fee: int = 125
) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(
        params={
            "amount": amount,
            "currency": "gbp",
            "application_fee_amount": fee,
            "metadata": {"order_id": key},
            "automatic_payment_methods": {"enabled": True},
        },
        options={"stripe_account": account, "idempotency_key": key},
    )


def events(deliveries: list[dict[str, Any]], secret: str) -> list[stripe.Event]:
    """Each delivery as the webhook endpoint sees it, verified by the SDK with ``secret``."""
    return [stripe.Webhook.construct_event(d["body"], d["signature"], secret) for d in deliveries]


def plain(obj: stripe.StripeObject | None) -> dict[str, Any]:
    """A Stripe object as the plain dict it was sent as."""
    assert obj is not None
    return obj.to_dict()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.time_ns()}"


def test_an_express_account_onboards_through_its_link_and_connect_is_told_signed(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given an Express account just created for a venue, not yet able to take payments,
    when its owner completes the onboarding page its account link points to, then the
    account can take payments, and Connect's endpoint gets an account.updated that the SDK
    accepts with the Connect secret and refuses with the platform's."""
    account = express_account(client, venue_id="v-1")
    assert (account.type, account.charges_enabled, account.details_submitted) == (
        "express",
        False,
        False,
    )
    assert plain(account.capabilities) == {"card_payments": "inactive", "transfers": "inactive"}
    assert plain(account.metadata) == {"venue_id": "v-1"}
    link = client.v1.account_links.create(
        params={
            "account": account.id,
            "refresh_url": "http://127.0.0.1:9/refresh",
            "return_url": "http://127.0.0.1:9/return",
            "type": "account_onboarding",
        }
    )
    assert link.url.startswith(fake_stripe.api_base + "/_fake/onboarding/")
    seq = fake_stripe.last_seq()

    # The owner submits the onboarding form; Stripe sends them back to the platform.
    request = urllib.request.Request(link.url, data=b"", method="POST")  # noqa: S310
    opener = urllib.request.build_opener(NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as redirected:
        opener.open(request, timeout=10)
    assert redirected.value.code == 303
    assert redirected.value.headers["Location"] == "http://127.0.0.1:9/return"

    onboarded = client.v1.accounts.retrieve(account.id)
    assert (onboarded.charges_enabled, onboarded.payouts_enabled) == (True, True)
    assert plain(onboarded.capabilities) == {"card_payments": "active", "transfers": "active"}
    deliveries = fake_stripe.deliveries(after=seq)
    assert [(d["endpoint"], d["type"]) for d in deliveries] == [("connect", "account.updated")]
    (event,) = events(deliveries, fake_stripe.connect_webhook_secret)
    assert (event.account, event.livemode, event.api_version) == (account.id, False, API_VERSION)
    assert event.data.object.charges_enabled is True
    assert plain(event.data.previous_attributes)["charges_enabled"] is False
    with pytest.raises(stripe.SignatureVerificationError):
        events(deliveries, fake_stripe.platform_webhook_secret)

    # A link is good once: followed again, it sends the owner to refresh_url for a new one.
    with pytest.raises(urllib.error.HTTPError) as again:
        opener.open(urllib.request.Request(link.url, data=b"", method="POST"), timeout=10)  # noqa: S310
    assert again.value.headers["Location"] == "http://127.0.0.1:9/refresh"


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_a_connected_payment_intent_carries_the_fee_and_its_idempotency_key_replays(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given an onboarded venue's account, when the platform creates a PaymentIntent on it
    with its fee and an idempotency key, and sends the same request again, then the second
    answer is the same PaymentIntent (one created, one event); the same key with another
    amount is refused with Stripe's idempotency error."""
    account = onboarded_account(client, fake_stripe)
    key = unique("order")
    seq = fake_stripe.last_seq()

    first = checkout(client, account.id, key)
    again = checkout(client, account.id, key)

    assert again.id == first.id
    assert (first.amount, first.currency, first.application_fee_amount) == (2500, "gbp", 125)
    assert first.status == "requires_payment_method"
    assert plain(first.metadata) == {"order_id": key}
    assert str(first.client_secret).startswith(first.id + "_secret_")
    assert plain(first.automatic_payment_methods)["enabled"] is True
    assert [d["type"] for d in fake_stripe.deliveries(after=seq)] == ["payment_intent.created"]
    with pytest.raises(stripe.IdempotencyError):
        checkout(client, account.id, key, amount=2600)


def test_a_fee_needs_a_connected_account_and_bad_input_is_refused_in_stripes_shape(
    client: stripe.StripeClient,
) -> None:
    """Given the platform's own key without a Stripe-Account, when it asks for an
    application fee, or sends an unknown parameter, then Stripe's errors come back."""
    with pytest.raises(stripe.InvalidRequestError) as fee:
        client.v1.payment_intents.create(
            params={"amount": 1000, "currency": "gbp", "application_fee_amount": 10}
        )
    assert fee.value.param == "application_fee_amount"
    with pytest.raises(stripe.InvalidRequestError) as unknown:
        client.v1.payment_intents.create(params={"amount": 1000, "currency": "gbp", "tip": 1})  # type: ignore[typeddict-unknown-key]
    assert (unknown.value.code, unknown.value.param) == ("parameter_unknown", "tip")
    with pytest.raises(stripe.InvalidRequestError) as small:
        client.v1.payment_intents.create(params={"amount": 10, "currency": "gbp"})
    assert small.value.code == "amount_too_small"


def test_a_payment_intent_is_visible_only_under_its_own_account(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given a PaymentIntent on venue A's account, when it is looked up under venue B's
    account, or the platform's, then Stripe answers 404 resource_missing, as for any id it
    does not know; an account that is not the platform's is refused outright."""
    venue_a = onboarded_account(client, fake_stripe)
    venue_b = onboarded_account(client, fake_stripe)
    intent = checkout(client, venue_a.id, unique("order"))

    assert client.v1.payment_intents.retrieve(
        intent.id, options={"stripe_account": venue_a.id}
    ).id == (intent.id)
    for account in (venue_b.id, None):
        with pytest.raises(stripe.InvalidRequestError) as hidden:
            client.v1.payment_intents.retrieve(intent.id, options={"stripe_account": account})
        assert (hidden.value.http_status, hidden.value.code) == (404, "resource_missing")
    with pytest.raises(stripe.PermissionError):
        client.v1.payment_intents.retrieve(intent.id, options={"stripe_account": "acct_unknown"})


def test_paying_tells_connect_the_payment_and_the_charge_succeeded(
    client: stripe.StripeClient, fake_stripe: FakeStripe, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a checkout's PaymentIntent on a venue's account, when the buyer pays with a
    test Visa (what Stripe Elements does), then the connected account's endpoint gets
    charge.succeeded and payment_intent.succeeded, signed with the Connect secret, and the
    platform's gets its application fee; the SDK reads the charge and fee back."""
    account = onboarded_account(client, fake_stripe)
    intent = checkout(client, account.id, unique("order"), amount=4200, fee=210)
    seq = fake_stripe.last_seq()

    paid = fake_stripe.pay(intent.id)

    assert (paid["status"], paid["amount_received"]) == ("succeeded", 4200)
    deliveries = fake_stripe.deliveries(after=seq)
    connect = [d for d in deliveries if d["endpoint"] == "connect"]
    platform = [d for d in deliveries if d["endpoint"] == "platform"]
    assert [d["type"] for d in connect] == ["charge.succeeded", "payment_intent.succeeded"]
    assert [d["type"] for d in platform] == ["application_fee.created"]
    charge_event, intent_event = events(connect, fake_stripe.connect_webhook_secret)
    assert {charge_event.account, intent_event.account} == {account.id}
    assert intent_event.data.object.id == intent.id
    assert intent_event.data.object.latest_charge == charge_event.data.object.id
    (fee_event,) = events(platform, fake_stripe.platform_webhook_secret)
    assert "account" not in fee_event.to_dict()
    assert (fee_event.data.object.amount, fee_event.data.object.account) == (210, account.id)

    # The module-level SDK (stripe.api_base) reads the same state.
    monkeypatch.setattr(stripe, "api_key", fake_stripe.secret_key)
    monkeypatch.setattr(stripe, "api_base", fake_stripe.api_base)
    charge = stripe.Charge.retrieve(paid["latest_charge"], stripe_account=account.id)
    assert (charge.amount, charge.application_fee_amount, charge.paid) == (4200, 210, True)
    assert charge.payment_intent == intent.id
    assert stripe.ApplicationFee.retrieve(str(charge.application_fee)).amount == 210
    retrieved = stripe.PaymentIntent.retrieve(
        intent.id, stripe_account=account.id, expand=["latest_charge"]
    )
    assert plain(retrieved)["latest_charge"]["id"] == charge.id
    assert stripe.Event.retrieve(intent_event.id, stripe_account=account.id).type == (
        "payment_intent.succeeded"
    )


def test_a_declined_card_fails_the_payment(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given a checkout's PaymentIntent, when it is confirmed with Stripe's declined test
    card, then the SDK raises a CardError, the PaymentIntent waits for another payment
    method, and Connect's endpoint gets payment_intent.payment_failed; paying again with a
    good card succeeds."""
    account = onboarded_account(client, fake_stripe)
    intent = checkout(client, account.id, unique("order"))
    seq = fake_stripe.last_seq()

    with pytest.raises(stripe.CardError) as declined:
        client.v1.payment_intents.confirm(
            intent.id,
            params={"payment_method": "pm_card_chargeDeclined"},
            options={"stripe_account": account.id},
        )

    assert declined.value.code == "card_declined"
    after = client.v1.payment_intents.retrieve(intent.id, options={"stripe_account": account.id})
    assert after.status == "requires_payment_method"
    assert after.last_payment_error is not None
    assert after.last_payment_error.decline_code == "generic_decline"
    deliveries = fake_stripe.deliveries(after=seq)
    assert [d["type"] for d in deliveries] == ["charge.failed", "payment_intent.payment_failed"]
    failed = events(deliveries, fake_stripe.connect_webhook_secret)[1]
    assert failed.data.object.id == intent.id
    assert fake_stripe.pay(intent.id, card="declined")["status"] == "requires_payment_method"
    assert fake_stripe.pay(intent.id, card="visa")["status"] == "succeeded"


def test_a_payment_intent_created_with_a_card_and_confirm_is_paid_at_once(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given a venue's account, when a PaymentIntent is created with a test card and
    confirm=true in one call, then it comes back succeeded with its charge; created with a
    card alone, it waits for confirmation."""
    account = onboarded_account(client, fake_stripe)
    on_account: stripe.RequestOptions = {"stripe_account": account.id}

    paid = client.v1.payment_intents.create(
        params={
            "amount": 900,
            "currency": "eur",
            "payment_method": "pm_card_visa",
            "confirm": True,
        },
        options=on_account,
    )
    waiting = client.v1.payment_intents.create(
        params={"amount": 900, "currency": "eur", "payment_method": "pm_card_mastercard"},
        options=on_account,
    )

    assert (paid.status, paid.amount_received) == ("succeeded", 900)
    assert client.v1.charges.retrieve(str(paid.latest_charge), options=on_account).paid is True
    assert waiting.status == "requires_confirmation"
    confirmed = client.v1.payment_intents.confirm(waiting.id, options=on_account)
    assert confirmed.status == "succeeded"
    method = client.v1.payment_methods.retrieve(str(confirmed.payment_method), options=on_account)
    assert plain(method.card)["last4"] == "4444"


def test_an_unpaid_payment_intent_can_be_changed_and_canceled_but_not_refunded(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given an unpaid checkout's PaymentIntent, when its metadata is changed and it is
    canceled, then Connect hears payment_intent.canceled; it can be neither paid nor
    refunded afterwards."""
    account = onboarded_account(client, fake_stripe)
    intent = checkout(client, account.id, unique("order"))
    on_account: stripe.RequestOptions = {"stripe_account": account.id}
    seq = fake_stripe.last_seq()

    changed = client.v1.payment_intents.update(
        intent.id, params={"metadata": {"table": "12"}}, options=on_account
    )
    canceled = client.v1.payment_intents.cancel(
        intent.id, params={"cancellation_reason": "abandoned"}, options=on_account
    )

    assert plain(changed.metadata)["table"] == "12"
    assert (canceled.status, canceled.cancellation_reason) == ("canceled", "abandoned")
    assert [d["type"] for d in fake_stripe.deliveries(after=seq)] == ["payment_intent.canceled"]
    with pytest.raises(stripe.InvalidRequestError) as confirm:
        client.v1.payment_intents.confirm(
            intent.id, params={"payment_method": "pm_card_visa"}, options=on_account
        )
    assert confirm.value.code == "payment_intent_unexpected_state"
    with pytest.raises(stripe.InvalidRequestError) as refund:
        client.v1.refunds.create(params={"payment_intent": intent.id}, options=on_account)
    assert refund.value.code == "charge_not_refundable"


def test_refunds_up_to_what_was_paid(client: stripe.StripeClient, fake_stripe: FakeStripe) -> None:
    """Given a paid PaymentIntent of 30.00 on a venue's account, when 10.00 is refunded and
    then the remainder, then both succeed and Connect hears refund.created and
    charge.refunded each time; a refund beyond what remains, or once all is refunded, is
    refused; a refund's idempotency key replays it rather than refunding twice."""
    account = onboarded_account(client, fake_stripe)
    intent = checkout(client, account.id, unique("order"), amount=3000)
    fake_stripe.pay(intent.id)
    on_account: stripe.RequestOptions = {"stripe_account": account.id}
    seq = fake_stripe.last_seq()

    key = unique("refund")
    partial = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1000},
        options={**on_account, "idempotency_key": key},
    )
    replayed = client.v1.refunds.create(
        params={"payment_intent": intent.id, "amount": 1000},
        options={**on_account, "idempotency_key": key},
    )
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(
            params={"payment_intent": intent.id, "amount": 2001}, options=on_account
        )
    rest = client.v1.refunds.create(params={"payment_intent": intent.id}, options=on_account)
    with pytest.raises(stripe.InvalidRequestError) as nothing_left:
        client.v1.refunds.create(
            params={"payment_intent": intent.id, "amount": 1}, options=on_account
        )

    assert replayed.id == partial.id
    assert (partial.amount, partial.status, rest.amount) == (1000, "succeeded", 2000)
    assert (too_much.value.code, too_much.value.param) == ("amount_too_large", "amount")
    assert nothing_left.value.code == "charge_already_refunded"
    assert client.v1.refunds.retrieve(rest.id, options=on_account).payment_intent == intent.id
    charge = client.v1.charges.retrieve(str(partial.charge), options=on_account)
    assert (charge.amount_refunded, charge.refunded) == (3000, True)
    deliveries = fake_stripe.deliveries(after=seq)
    assert [d["type"] for d in deliveries] == ["refund.created", "charge.refunded"] * 2
    refunded = [
        e.data.object.amount_refunded
        for e in events(deliveries, fake_stripe.connect_webhook_secret)
        if e.type == "charge.refunded"
    ]
    assert refunded == [1000, 3000]
    with pytest.raises(stripe.InvalidRequestError) as elsewhere:
        client.v1.refunds.retrieve(rest.id)
    assert elsewhere.value.code == "resource_missing"


def test_events_are_listed_per_account_and_can_be_sent_again(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given events on two venues' accounts, when each account's events are listed, then
    each sees its own and the platform sees none of them; an event sent again is the same
    body under a fresh signature."""
    venue_a = onboarded_account(client, fake_stripe)
    venue_b = onboarded_account(client, fake_stripe)
    intent = checkout(client, venue_a.id, unique("order"))
    checkout(client, venue_b.id, unique("order"))

    listed_a = client.v1.events.list(params={"limit": 100}, options={"stripe_account": venue_a.id})
    created = client.v1.events.list(
        params={"type": "payment_intent.created"}, options={"stripe_account": venue_a.id}
    )
    platform = client.v1.events.list(params={"limit": 100})

    assert {e.account for e in listed_a.data} == {venue_a.id}
    assert [e.type for e in listed_a.data] == ["payment_intent.created", "account.updated"]
    assert [e.data.object.id for e in created.data] == [intent.id]
    assert all("account" not in e.to_dict() for e in platform.data)
    event = created.data[0]
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.events.retrieve(event.id, options={"stripe_account": venue_b.id})
    original = next(d for d in fake_stripe.deliveries() if d["event_id"] == event.id)

    resent = fake_stripe.resend(event.id)

    assert resent["seq"] > original["seq"]
    assert resent["body"] == original["body"]
    assert events([resent], fake_stripe.connect_webhook_secret)[0].id == event.id


def test_the_api_speaks_the_pinned_sdk_version_and_wants_a_test_key(
    fake_stripe: FakeStripe,
) -> None:
    """Given the pinned SDK, then the fake's events carry its API version; a call without a
    test secret key is refused as Stripe refuses it."""
    assert stripe.api_version == API_VERSION
    for key in ("sk_live_real_money", "pk_test_publishable"):
        live = stripe.StripeClient(key, base_addresses={"api": fake_stripe.api_base})
        with pytest.raises(stripe.AuthenticationError):
            live.v1.accounts.create(params={"type": "express"})


class Receiver:
    """A webhook endpoint on this machine that fails its first ``failures`` requests."""

    def __init__(self, failures: int) -> None:
        self.received: list[tuple[int, str, str]] = []  # (status answered, body, signature)
        self.arrived = threading.Condition()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"])).decode()
                with receiver.arrived:
                    status = 500 if len(receiver.received) < failures else 200
                    receiver.received.append((status, body, self.headers["Stripe-Signature"]))
                    receiver.arrived.notify_all()
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.http = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.http.server_port}/webhooks/stripe/connect"
        threading.Thread(target=self.http.serve_forever, daemon=True).start()

    def wait_for(self, condition: Callable[[], bool]) -> None:
        with self.arrived:
            assert self.arrived.wait_for(condition, timeout=30), self.received


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    endpoint = Receiver(failures=1)
    yield endpoint
    endpoint.http.shutdown()


def test_a_delivery_refused_with_a_500_is_posted_again(receiver: Receiver) -> None:
    """Given a fake whose Connect endpoint is a server that answers 500 the first time,
    when an account finishes onboarding, then account.updated is POSTed again until it is
    taken, each attempt signed for the Connect secret over the outbox's exact body, and the
    outbox records both attempts."""
    with FakeStripe(connect_webhook_url=receiver.url, backoff=0.05) as fake:
        client = stripe.StripeClient(
            fake.secret_key, base_addresses={"api": fake.api_base}, max_network_retries=0
        )
        account = express_account(client)

        fake.complete_onboarding(account.id)

        receiver.wait_for(lambda: len(receiver.received) >= 2)
        (delivery,) = fake.deliveries()
        for _, body, signature in receiver.received:
            assert body == delivery["body"]
            event = stripe.Webhook.construct_event(body, signature, fake.connect_webhook_secret)
            assert (event.type, event.account) == ("account.updated", account.id)
        assert [status for status, _, _ in receiver.received] == [500, 200]
        attempts = fake.deliveries()[0]["attempts"]
        while len(attempts) < 2:  # the outbox notes the answer just after the receiver sent it
            time.sleep(0.02)
            attempts = fake.deliveries()[0]["attempts"]
        assert [a["status"] for a in attempts] == [500, 200]
        assert fake.deliveries()[0]["delivered"] is True
        assert ": 500 (attempt 1/4)" in fake.log()


def test_webhook_urls_change_at_run_time_and_reset_restores_them() -> None:
    """Given a fake started with no webhook URL, when the Connect URL is set at run time,
    then the next event is POSTed there; after a reset it is kept in the outbox only, and
    the objects made before the reset are gone."""
    endpoint = Receiver(failures=0)
    try:
        with FakeStripe() as fake:
            client = stripe.StripeClient(
                fake.secret_key, base_addresses={"api": fake.api_base}, max_network_retries=0
            )
            before = express_account(client)
            fake.complete_onboarding(before.id)
            assert fake.deliveries()[-1]["url"] is None

            assert fake.set_webhooks(connect_url=endpoint.url)["connect_url"] == endpoint.url
            account = express_account(client)
            fake.complete_onboarding(account.id)
            endpoint.wait_for(lambda: len(endpoint.received) == 1)
            seq = fake.last_seq()
            fake.reset()
            after_reset = express_account(client)
            fake.complete_onboarding(after_reset.id)

            (_, body, signature) = endpoint.received[0]
            assert stripe.Webhook.construct_event(
                body, signature, fake.connect_webhook_secret
            ).account == (account.id)
            (delivery,) = fake.deliveries()
            assert (delivery["seq"], delivery["url"]) == (seq + 1, None)
            with pytest.raises(stripe.InvalidRequestError):
                client.v1.accounts.retrieve(before.id)
    finally:
        endpoint.http.shutdown()


def test_the_pay_command_pays_a_payment_intent_on_the_running_fake(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given a checkout's PaymentIntent, when `python -m infra.local.fake_stripe pay` is run
    against the fake (the README's one-command payment), then it is paid and says so."""
    account = onboarded_account(client, fake_stripe)
    intent = checkout(client, account.id, unique("order"), amount=1850)

    done = subprocess.run(
        [*PAY, intent.id, "--url", fake_stripe.api_base],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert done.returncode == 0, done.stderr
    assert done.stdout.startswith(f"{intent.id}: succeeded")
    paid = client.v1.payment_intents.retrieve(intent.id, options={"stripe_account": account.id})
    assert paid.status == "succeeded"
    missing = subprocess.run(
        [*PAY, "pi_unknown", "--url", fake_stripe.api_base],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert missing.returncode == 1
    assert "No such payment_intent" in missing.stderr


def test_the_outbox_body_is_the_event_the_api_returns(
    client: stripe.StripeClient, fake_stripe: FakeStripe
) -> None:
    """Given an event delivered to the outbox, then its body is the event in Stripe's shape:
    the fields a webhook handler reads are all there."""
    account = express_account(client)
    seq = fake_stripe.last_seq()
    fake_stripe.complete_onboarding(account.id)
    (delivery,) = fake_stripe.deliveries(after=seq)
    body = json.loads(delivery["body"])
    assert set(body) == {
        "id",
        "object",
        "account",
        "api_version",
        "created",
        "data",
        "livemode",
        "pending_webhooks",
        "request",
        "type",
    }
    assert body["id"].startswith("evt_")
    assert body["object"] == "event"
    assert body["request"] == {"id": None, "idempotency_key": None}
    assert re.fullmatch(r"t=\d+,v1=[0-9a-f]{64}", delivery["signature"])
