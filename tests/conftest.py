"""Shared fixtures: a real Postgres (started here when DATABASE_URL is unset), migrated and
seeded with the demo data, and the local gateway in front of the real handlers.

The helpers they are built from live in tests/support/; ``make_runtime``, ``make_api``,
``close_runtime``, ``trusted_keys`` and ``copy_of_demo_user`` stay importable from here."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg
import pytest

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.mailbox import LocalMailbox
from infra.local.seed import CENTRALE, USER, menu_item_id, seed, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.payments import StripeApi, WebhookQueue
from tenancy.runtime import Runtime
from tests.support.demo_users import copy_of_demo_user
from tests.support.fake_stripe import FakeStripe
from tests.support.logs import WrittenLog
from tests.support.logs import written_log as capture_written_log
from tests.support.payments import ListQueue, Payments
from tests.support.stack import (
    close_runtime,
    in_memory_issuer,
    make_api,
    make_runtime,
    trusted_keys,
)
from webhooks.processor import Processor

__all__ = [
    "ROOT",
    "close_runtime",
    "copy_of_demo_user",
    "make_api",
    "make_runtime",
    "trusted_keys",
]

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="session")
def server_url(tmp_path_factory: pytest.TempPathFactory) -> str:
    """An administrative connection to a Postgres server (DATABASE_URL, or our own)."""
    configured = os.environ.get("DATABASE_URL")
    if configured:
        return configured
    return postgres.server_url(tmp_path_factory.mktemp("postgres") / "data", delete_on_exit=True)


@pytest.fixture(scope="session")
def database(server_url: str) -> Iterator[postgres.Database]:
    name = f"venue_test_{uuid.uuid4().hex[:10]}"
    db = postgres.prepare(server_url, name, fresh=True)
    seed(db.admin_url)
    yield db
    postgres.drop(server_url, name)


@pytest.fixture(scope="session")
def signing_key() -> SigningKey:
    return SigningKey.generate()


@pytest.fixture(scope="session")
def mailbox(tmp_path_factory: pytest.TempPathFactory) -> LocalMailbox:
    """Where the issuer's mail goes (SES stands in for it in AWS)."""
    return LocalMailbox(tmp_path_factory.mktemp("mailbox"))


@pytest.fixture(scope="session")
def issuer(signing_key: SigningKey, mailbox: LocalMailbox) -> Iterator[Issuer]:
    """The real issuer, its signing key in (moto's) KMS, breaches from the local corpus,
    mail to the local mailbox."""
    with in_memory_issuer(mailer=mailbox) as installed:
        yield installed


@pytest.fixture(scope="session")
def runtime(
    database: postgres.Database, signing_key: SigningKey, issuer: Issuer
) -> Iterator[Runtime]:
    runtime = make_runtime(database, trusted_keys(signing_key, issuer), issuer=issuer)
    yield runtime
    close_runtime(runtime)


@pytest.fixture(scope="session")
def api(
    runtime: Runtime, signing_key: SigningKey, issuer: Issuer, database: postgres.Database
) -> ApiClient:
    return make_api(runtime, trusted_keys(signing_key, issuer), signing_key, database.admin_url)


@pytest.fixture
def admin_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    """The superuser, for Given and Then steps (it bypasses row-level security)."""
    with psycopg.connect(database.admin_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def runtime_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    """A connection as the venue functions' role (app_venue), exactly what they use."""
    with psycopg.connect(database.venue_url) as conn:
        yield conn


class Bind(Protocol):
    def __call__(
        self,
        conn: psycopg.Connection,
        *,
        user_id: uuid.UUID,
        venue_id: uuid.UUID | None,
        mfa: bool = False,
        session_id: uuid.UUID | None = None,
    ) -> None: ...


@pytest.fixture
def bind(database: postgres.Database) -> Bind:
    """Binds a caller on a connection exactly as the gate does (signed), in a new sign-in
    session unless one is given. Inside a transaction: the bindings end with it."""
    key = BindingKey.from_setting(database.binding_key)

    def bind(
        conn: psycopg.Connection,
        *,
        user_id: uuid.UUID,
        venue_id: uuid.UUID | None,
        mfa: bool = False,
        session_id: uuid.UUID | None = None,
    ) -> None:
        if session_id is None:
            session_id, _ = start_demo_session(database.admin_url, user_id)
        bindings = key.bind(user_id=user_id, session_id=session_id, venue_id=venue_id, mfa=mfa)
        conn.execute(bindings.SQL, bindings.as_params())

    return bind


@pytest.fixture
def issuer_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    """A connection as the issuer functions' role (app_issuer)."""
    with psycopg.connect(database.issuer_url) as conn:
        yield conn


@pytest.fixture(scope="session")
def fake_stripe() -> Iterator[FakeStripe]:
    """The fake Stripe server (infra/local/fake_stripe), one process for the session, for the
    real `stripe` SDK (``api_base``). Its objects live on between tests: read deliveries
    after ``fake_stripe.last_seq()`` taken in the Given step, or ``reset()`` it."""
    with FakeStripe() as fake:
        yield fake


# --- payments (tests/support/payments.py) -------------------------------------------------


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
    created = payments.api.request(
        "POST", f"/venues/{CENTRALE}/payments/account", as_user=USER["owner"].id
    )
    assert created.status == 201, created.text
    account = str(created.json()["stripe_account_id"])
    payments.fake.complete_onboarding(account)
    payments.settle(seq)
    status = payments.api.get(f"/venues/{CENTRALE}/payments/status", as_user=USER["owner"].id)
    assert status.json()["charges_enabled"] is True, status.text
    return account


@pytest.fixture(scope="session")
def demo_checkout(payments: Payments, centrale_account: str, database: postgres.Database) -> str:
    """A checkout of centrale awaiting payment (one tiramisù), for the routes that read one."""
    ensure_open_shift(database.admin_url, CENTRALE)
    response = payments.api.request(
        "POST",
        f"/venues/{CENTRALE}/checkouts",
        as_user=USER["waiter"].id,
        json_body={
            "lines": [{"item_id": str(menu_item_id("Tiramisù")), "quantity": 1}],
            "idempotency_key": "demo-checkout-of-the-suite",
        },
    )
    assert response.status == 201, response.text
    checkout_id: str = response.json()["checkout_id"]
    return checkout_id


def ensure_open_shift(admin_url: str, venue_id: uuid.UUID) -> None:
    """The venue serves: a shift is open (a test may have closed it)."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        if not admin.execute(
            "SELECT 1 FROM shifts WHERE venue_id = %s AND closed_at IS NULL", (venue_id,)
        ).fetchone():
            admin.execute(
                "INSERT INTO shifts (venue_id, opened_by) VALUES (%s, %s)",
                (venue_id, USER["owner"].id),
            )


@pytest.fixture
def written_log() -> Iterator[WrittenLog]:
    """The JSON lines the functions write during the test, as written (tests/support/logs.py)."""
    with capture_written_log() as log:
        yield log
