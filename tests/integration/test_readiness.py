"""GET /health/ready, the check the canary deploy's PreTraffic hook runs on the new version:
ready only with the database answering over TLS (in AWS), the schema at the version the code
needs, and the signing key readable in KMS."""

from __future__ import annotations

from collections.abc import Iterator

import psycopg
import pytest

from auth.config import Issuer
from health import get_readiness
from infra.local.aws import REGION
from infra.local.client import ApiClient
from infra.migrate import MIGRATIONS
from tenancy.schema import SCHEMA_VERSION


@pytest.fixture
def kms_in_reach(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The readiness function's KMS client, in the tests' emulated KMS region."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    get_readiness._kms.cache_clear()
    yield
    get_readiness._kms.cache_clear()


def test_the_code_needs_the_newest_migration() -> None:
    """Given infra/migrations, then tenancy.schema.SCHEMA_VERSION names its newest file:
    bump it with every migration, so a canary never takes traffic on an older schema."""
    assert max(path.name for path in MIGRATIONS.glob("*.sql")) == SCHEMA_VERSION


def test_a_stack_with_everything_in_reach_is_ready(
    api: ApiClient, issuer: Issuer, kms_in_reach: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given the migrated database and the issuer's signing key in KMS, when readiness is
    asked, then it answers 200 ok."""
    monkeypatch.setenv("TOKEN_SIGNING_KEY_IDS", issuer.settings.token_signing_key_ids)

    response = api.get("/health/ready")

    assert (response.status, response.json()) == (200, {"status": "ok", "database": "ok"})


def test_a_schema_without_the_needed_migration_is_not_ready(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a database whose record lacks the migration the code needs (as before the
    deploy's migrations ran), when readiness is asked, then it answers 503 not-ready naming
    the migration."""
    admin_db.execute(
        "UPDATE schema_migrations SET name = 'pending-' || name WHERE name = %s",
        (SCHEMA_VERSION,),
    )
    try:
        response = api.get("/health/ready")
    finally:
        admin_db.execute(
            "UPDATE schema_migrations SET name = %s WHERE name = %s",
            (SCHEMA_VERSION, f"pending-{SCHEMA_VERSION}"),
        )

    assert response.status == 503
    assert response.json()["code"] == "not-ready"
    assert SCHEMA_VERSION in response.json()["detail"]


def test_an_unreadable_signing_key_is_not_ready(
    api: ApiClient, kms_in_reach: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a function told to sign with a key KMS does not have, when readiness is asked,
    then it answers 503 not-ready naming the signing key."""
    monkeypatch.setenv("TOKEN_SIGNING_KEY_IDS", "11111111-2222-3333-4444-555555555555")

    response = api.get("/health/ready")

    assert response.status == 503
    assert "signing key" in response.json()["detail"]


def test_a_connection_from_a_secret_without_tls_is_not_ready(
    api: ApiClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a function deployed with a database secret (so TLS is required) whose
    connection is not encrypted (the local server has no TLS), when readiness is asked, then
    it answers 503 not-ready."""
    monkeypatch.setenv("DATABASE_SECRET_ARN", "arn:aws:secretsmanager:eu-south-1:1:secret:db")

    response = api.get("/health/ready")

    assert response.status == 503
    assert "not encrypted" in response.json()["detail"]
