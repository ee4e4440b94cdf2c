"""Shared fixtures: a real Postgres (started here when DATABASE_URL is unset), migrated and
seeded with the demo data, and the local gateway in front of the real handlers."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import seed
from tenancy.db import PooledConnections
from tenancy.runtime import Runtime
from tenancy.tokens import StaticKeySource, TokenVerifier

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


def make_runtime(database: postgres.Database, key: SigningKey, pool_size: int = 8) -> Runtime:
    return Runtime(
        connections=PooledConnections(database.runtime_url, max_size=pool_size),
        verifier=TokenVerifier(
            issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(key.jwks())
        ),
    )


@pytest.fixture(scope="session")
def runtime(database: postgres.Database, signing_key: SigningKey) -> Runtime:
    return make_runtime(database, signing_key)


@pytest.fixture(scope="session")
def api(runtime: Runtime, signing_key: SigningKey) -> ApiClient:
    gateway = LocalGateway(
        runtime,
        keys=StaticKeySource(signing_key.jwks()),
        issuer=LOCAL_ISSUER,
        audience=LOCAL_AUDIENCE,
    )
    return ApiClient(gateway, signing_key, LOCAL_ISSUER, LOCAL_AUDIENCE)


@pytest.fixture
def admin_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    """The superuser, for Given and Then steps (it bypasses row-level security)."""
    with psycopg.connect(database.admin_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def runtime_db(database: postgres.Database) -> Iterator[psycopg.Connection]:
    """A connection as the runtime role, exactly what the functions use."""
    with psycopg.connect(database.runtime_url) as conn:
        yield conn
