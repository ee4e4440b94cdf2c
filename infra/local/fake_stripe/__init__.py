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

The test controls (what a buyer's browser or the Stripe dashboard would do), JSON in and out:

    GET  /_fake/deliveries?after=<seq>   [{seq, endpoint, event_id, type, account, body,
                                           signature, url, attempts, delivered}, ...]
    POST /_fake/webhooks                 {"platform_url": URL|null, "connect_url": URL|null}
    POST /_fake/payment_intents/<id>/pay {"card": "visa"|"declined"|"pm_card_..."}
    POST /_fake/accounts/<id>/complete_onboarding
    POST /_fake/events/<id>/resend       a new delivery of the same body, signed anew
    POST /_fake/reset                    every object, event and delivery forgotten; the
                                         webhook URLs back to those it was started with
    GET|POST /_fake/onboarding/<token>   where an account link points: completes onboarding

Only the standard library: the import is cheap and the process is ready in a fraction of a
second.
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
