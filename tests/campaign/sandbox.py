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
from tenancy.payments import StripeApi
from tenancy.permissions import Role
from tests.support.demo_users import attach, new_user
from tests.support.fake_stripe import FakeStripe
from tests.support.stack import close_runtime, make_api, make_runtime, trusted_keys

__all__ = ["Sandbox", "sandbox"]


@dataclass(frozen=True)
class Sandbox:
    database: postgres.Database
    api: ApiClient
    #: An account attached to centrale alone, as its owner (every flag there, none at nord).
    centrale_owner: uuid.UUID


@contextmanager
def sandbox(
    server_url: str, signing_key: SigningKey, issuer: Issuer, fake_stripe: FakeStripe
) -> Iterator[Sandbox]:
    """The sandbox's payments routes reach the fake Stripe, as the suite's do."""
    name = f"venue_campaign_{uuid.uuid4().hex[:10]}"
    database = postgres.prepare(server_url, name, fresh=True)
    try:
        seed(database.admin_url)
        with psycopg.connect(database.admin_url, autocommit=True) as admin:
            owner = new_user(admin, "Centrale-only owner")
            attach(admin, owner, CENTRALE, Role.OWNER)
        keys = trusted_keys(signing_key, issuer)
        runtime = make_runtime(database, keys, issuer=issuer)
        runtime.collaborators[StripeApi] = StripeApi(
            secret_key=fake_stripe.secret_key, api_base=fake_stripe.api_base
        )
        try:
            yield Sandbox(database, make_api(runtime, keys, signing_key, database.admin_url), owner)
        finally:
            close_runtime(runtime)
    finally:
        postgres.drop(server_url, name)
