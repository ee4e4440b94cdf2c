"""A small, stateful fake of the Stripe API for `make dev` and the tests.

The real `stripe` SDK talks to it (``api_base`` / ``base_addresses``): Connect Express
accounts and their onboarding links, PaymentIntents on a connected account with the
platform's application fee, idempotency keys, charges, refunds and events, each answered in
Stripe's JSON shape and its errors in Stripe's error shape. Every state change makes an
event, signed as Stripe signs webhooks, kept in an outbox (``GET /_fake/deliveries``) and
POSTed to the platform or Connect endpoint when one is configured.

    python -m infra.local.fake_stripe --port 8420 \\
        --platform-webhook-url http://127.0.0.1:8787/webhooks/stripe \\
        --connect-webhook-url http://127.0.0.1:8787/webhooks/stripe/connect
    python -m infra.local.fake_stripe pay pi_...          # what Stripe Elements would do

Only the standard library: it starts in a few tens of milliseconds.
"""

from infra.local.fake_stripe.model import (
    API_VERSION,
    DEFAULT_CONNECT_SECRET,
    DEFAULT_PLATFORM_SECRET,
    StripeError,
    StripeState,
)
from infra.local.fake_stripe.server import DEFAULT_PORT, FakeStripeServer

__all__ = [
    "API_VERSION",
    "DEFAULT_CONNECT_SECRET",
    "DEFAULT_PLATFORM_SECRET",
    "DEFAULT_PORT",
    "FakeStripeServer",
    "StripeError",
    "StripeState",
]
