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
from infra.local.seed import seed, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.runtime import Runtime
from tests.support.demo_users import copy_of_demo_user
from tests.support.fake_stripe import FakeStripe
from tests.support.stack import (
    close_runtime,
    in_memory_issuer,
    make_api,
    make_runtime,
    trusted_keys,
)

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
