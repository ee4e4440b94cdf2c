"""The payments tests' world: the session's runtime pointed at the fake Stripe, the
processor on the app_payments role, and centrale onboarded through the routes."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import psycopg
import pytest

from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER, menu_item_id
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.payments import StripeApi, WebhookQueue
from tenancy.runtime import Runtime
from tests.support.fake_stripe import FakeStripe
from tests.support.payments import ListQueue, Payments
from webhooks.processor import Processor

OWNER = USER["owner"].id
WAITER = USER["waiter"].id
REGIONAL = USER["regional"].id
TAGLIATELLE = menu_item_id("Tagliatelle al ragù")  # 1400 at centrale
TIRAMISU = menu_item_id("Tiramisù")  # 700 at centrale


@pytest.fixture(scope="session")
def payments(
    api: ApiClient, runtime: Runtime, fake_stripe: FakeStripe, database: postgres.Database
) -> Iterator[Payments]:
    stripe_api = StripeApi(secret_key=fake_stripe.secret_key, api_base=fake_stripe.api_base)
    runtime.collaborators[StripeApi] = stripe_api
    queue = runtime.collaborators[WebhookQueue]
    assert isinstance(queue, ListQueue)
    pool = PooledConnections(database.payments_url, max_size=24)
    processor = Processor(
        database=pool,
        binding_key=BindingKey.from_setting(database.binding_key),
        stripe=stripe_api,
    )
    yield Payments(api=api, fake=fake_stripe, queue=queue, processor=processor)
    pool.close()


@pytest.fixture(scope="session")
def centrale_account(payments: Payments, database: postgres.Database) -> str:
    """Centrale's Express account, made by its owner through the route and onboarded on the
    fake; its status came back through account.updated."""
    with psycopg.connect(database.admin_url, autocommit=True) as admin:
        row = admin.execute(
            "SELECT stripe_account_id, charges_enabled FROM payment_accounts WHERE venue_id = %s",
            (CENTRALE,),
        ).fetchone()
    if row is not None and row[1]:
        return str(row[0])
    seq = payments.fake.last_seq()
    created = payments.api.request("POST", f"/venues/{CENTRALE}/payments/account", as_user=OWNER)
    assert created.status == 201, created.text
    account = str(created.json()["stripe_account_id"])
    payments.fake.complete_onboarding(account)
    payments.settle(seq)
    status = payments.api.get(f"/venues/{CENTRALE}/payments/status", as_user=OWNER)
    assert status.json()["charges_enabled"] is True, status.text
    return account


@pytest.fixture
def open_shift(admin_db: psycopg.Connection) -> None:
    """Centrale serves: a shift is open (other tests may have closed it)."""
    if not admin_db.execute(
        "SELECT 1 FROM shifts WHERE venue_id = %s AND closed_at IS NULL", (CENTRALE,)
    ).fetchone():
        admin_db.execute(
            "INSERT INTO shifts (venue_id, opened_by) VALUES (%s, %s)", (CENTRALE, OWNER)
        )


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"
