"""A database of the campaign's own, seeded with the demo data, and the local gateway in
front of it: the campaigns send valid requests too (they change prices, lock tills,
detach people at centrale), so they never run on the database the rest of the suite
shares."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

import psycopg

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, seed
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.payments import StripeApi, WebhookQueue
from tenancy.permissions import Role
from tests.support.demo_users import attach, new_user
from tests.support.fake_stripe import FakeStripe
from tests.support.payments import ListQueue, Payments
from tests.support.stack import close_runtime, make_api, make_runtime, trusted_keys
from webhooks.processor import Processor

__all__ = ["Sandbox", "sandbox"]


@dataclass(frozen=True)
class Sandbox:
    database: postgres.Database
    api: ApiClient
    #: An account attached to centrale alone, as its owner (every flag there, none at nord).
    centrale_owner: uuid.UUID
    #: The fake Stripe, the webhook queue and the processor on the sandbox's database:
    #: Stripe's deliveries go through the webhook routes, then the processor.
    payments: Payments


@contextmanager
def sandbox(
    server_url: str, signing_key: SigningKey, issuer: Issuer, fake_stripe: FakeStripe
) -> Iterator[Sandbox]:
    """The sandbox's payments routes reach the fake Stripe, and its deliveries settle
    through the webhook routes and the processor, as the suite's do."""
    name = f"venue_campaign_{uuid.uuid4().hex[:10]}"
    database = postgres.prepare(server_url, name, fresh=True)
    try:
        seed(database.admin_url)
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            owner = new_user(admin, "Centrale-only owner")
            attach(admin, owner, CENTRALE, Role.OWNER)
        keys = trusted_keys(signing_key, issuer)
        runtime = make_runtime(database, keys, issuer=issuer)
        stripe_api = StripeApi(secret_key=fake_stripe.secret_key, api_base=fake_stripe.api_base)
        runtime.collaborators[StripeApi] = stripe_api
        queue = runtime.collaborators[WebhookQueue]
        assert isinstance(queue, ListQueue)
        pool = PooledConnections(database.payments_url, max_size=4)
        processor = Processor(
            database=pool,
            binding_key=BindingKey.from_setting(database.binding_key),
            stripe=stripe_api,
        )
        api = make_api(runtime, keys, signing_key, database.admin_url)
        try:
            yield Sandbox(database, api, owner, Payments(api, fake_stripe, queue, processor))
        finally:
            pool.close()
            close_runtime(runtime)
    finally:
        postgres.drop(server_url, name)
