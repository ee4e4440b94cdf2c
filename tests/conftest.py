"""Shared fixtures: a real Postgres (started here when DATABASE_URL is unset), migrated and
seeded with the demo data, and the local gateway in front of the real handlers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol

import psycopg
import pytest

from auth.config import Issuer, IssuerSettings, install_issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import LOCAL_APP_KEYS, DemoUser, seed, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import KeySource, StaticKeySource, TokenVerifier

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


def make_runtime(database: postgres.Database, keys: KeySource, pool_size: int = 8) -> Runtime:
    return Runtime(
        databases={
            DbRole.VENUE: PooledConnections(database.venue_url, max_size=pool_size),
            DbRole.ISSUER: PooledConnections(database.issuer_url, max_size=pool_size),
        },
        verifier=TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=keys),
        binding_key=BindingKey.from_setting(database.binding_key),
    )


def close_runtime(runtime: Runtime) -> None:
    for source in runtime.databases.values():
        if isinstance(source, PooledConnections):
            source.close()


def make_api(
    runtime: Runtime, keys: KeySource, signing_key: SigningKey, admin_url: str
) -> ApiClient:
    gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
    return ApiClient(
        gateway,
        signing_key,
        LOCAL_ISSUER,
        LOCAL_AUDIENCE,
        start_session=lambda user_id: start_demo_session(admin_url, user_id),
    )


@pytest.fixture(scope="session")
def issuer(signing_key: SigningKey) -> Iterator[Issuer]:
    """The real issuer, its signing key in (moto's) KMS, breaches from the local corpus."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        kms = boto3.client("kms", region_name="eu-south-1")
        key_id = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
            "KeyId"
        ]
        settings = IssuerSettings(
            token_issuer=LOCAL_ISSUER,
            token_audience=LOCAL_AUDIENCE,
            token_signing_key_ids=key_id,
            app_keys=LOCAL_APP_KEYS,
            breach_corpus=str(ROOT / "infra/local/pwned-passwords.txt"),
        )
        installed = Issuer.from_settings(settings, kms)
        install_issuer(installed)
        yield installed
        install_issuer(None)


def trusted_keys(signing_key: SigningKey, issuer: Issuer) -> StaticKeySource:
    """The issuer's KMS key and the tests' local key (for tokens the tests forge on purpose)."""
    return StaticKeySource({"keys": issuer.signer.jwks()["keys"] + signing_key.jwks()["keys"]})


@pytest.fixture(scope="session")
def runtime(
    database: postgres.Database, signing_key: SigningKey, issuer: Issuer
) -> Iterator[Runtime]:
    runtime = make_runtime(database, trusted_keys(signing_key, issuer))
    yield runtime
    close_runtime(runtime)


@pytest.fixture(scope="session")
def api(
    runtime: Runtime, signing_key: SigningKey, issuer: Issuer, database: postgres.Database
) -> ApiClient:
    return make_api(runtime, trusted_keys(signing_key, issuer), signing_key, database.admin_url)


def copy_of_demo_user(
    admin_db: psycopg.Connection, original: DemoUser, *, with_attachments: bool
) -> str:
    """A new account with ``original``'s password (and, if asked, attachments), made for one
    test so its locks, sessions and changes touch nothing else. Returns its email."""
    user_id = uuid.uuid4()
    email = f"{user_id.hex[:12]}@io-osteria.example"
    admin_db.execute(
        "INSERT INTO users (id, email, display_name, password_hash)"
        " SELECT %s, %s, 'Copy of ' || display_name, password_hash FROM users WHERE id = %s",
        (user_id, email, original.id),
    )
    if with_attachments:
        admin_db.execute(
            "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
            " SELECT venue_id, %s, role, permissions FROM venue_attachments WHERE user_id = %s",
            (user_id, original.id),
        )
    return email


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
