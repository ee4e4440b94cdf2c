"""The fake Stripe's wire format on its own: Stripe's form encoding read back into the
parameters the SDK meant, and webhook signatures the real SDK verifies."""

from __future__ import annotations

import json
import time
from urllib.parse import parse_qsl

import pytest
import stripe

from infra.local.fake_stripe.server import unflatten
from infra.local.fake_stripe.webhooks import sign


def test_the_sdks_form_encoding_reads_back_as_its_parameters() -> None:
    """Given a body encoded as the SDK encodes nested parameters, lists and metadata, when
    the fake reads it, then it gets the tree the caller passed."""
    body = (
        "amount=2500&currency=gbp&metadata[order_id]=o-1&metadata[venue]=v%201"
        "&automatic_payment_methods[enabled]=true"
        "&capabilities[card_payments][requested]=true&expand[0]=latest_charge"
        "&expand[1]=payment_method&types[]=a&types[]=b"
    )

    params = unflatten(parse_qsl(body, keep_blank_values=True))

    assert params == {
        "amount": "2500",
        "currency": "gbp",
        "metadata": {"order_id": "o-1", "venue": "v 1"},
        "automatic_payment_methods": {"enabled": "true"},
        "capabilities": {"card_payments": {"requested": "true"}},
        "expand": ["latest_charge", "payment_method"],
        "types": ["a", "b"],
    }


def test_a_signature_verifies_with_its_secret_only_and_over_its_exact_body() -> None:
    """Given an event body signed for one secret, then the SDK's construct_event accepts it
    with that secret, and refuses another secret, a changed body and an old timestamp."""
    body = json.dumps({"id": "evt_1", "object": "event", "type": "account.updated"}, indent=2)
    header = sign("whsec_one", body)

    assert stripe.Webhook.construct_event(body, header, "whsec_one").id == "evt_1"
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, header, "whsec_two")
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body.replace("evt_1", "evt_2"), header, "whsec_one")
    stale = sign("whsec_one", body, timestamp=int(time.time()) - 3600)
    with pytest.raises(stripe.SignatureVerificationError):
        stripe.Webhook.construct_event(body, stale, "whsec_one")
