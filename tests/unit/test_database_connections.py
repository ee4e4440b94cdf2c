"""How a deployed function reaches Postgres: from its role's secret, over TLS verified
against the RDS CA bundle the tenancy layer ships, one connection per execution environment
that is reused and reopened after a failure, and nothing that would pin an RDS Proxy
connection."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import boto3
import pytest
from cryptography import x509
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

import tenancy.db
from tenancy.db import CONNECTION_OPTIONS, SingleConnection
from tenancy.runtime import RDS_CA_BUNDLE, Runtime, conninfo_from_secret
from tenancy.settings import Settings
from tenancy.spec import DbRole

REGION = "eu-west-1"
SECRET = {
    "username": "app_venue",
    "password": "a pass'word with spaces",
    "dbname": "venue",
    "port": 5432,
    "host": "db.cluster-abc.eu-west-1.rds.amazonaws.com",
}
PROXY = "venue-proxy.proxy-abc.eu-west-1.rds.amazonaws.com"


class FakeConnection:
    """Stands for a psycopg connection: only what SingleConnection looks at."""

    def __init__(self, conninfo: str) -> None:
        self.conninfo = conninfo
        self.closed = False
        self.broken = False


@pytest.fixture
def opened(monkeypatch: pytest.MonkeyPatch) -> list[FakeConnection]:
    """Every connection tenancy.db opens, in order (nothing reaches a server)."""
    connections: list[FakeConnection] = []

    def connect(conninfo: str) -> FakeConnection:
        connections.append(FakeConnection(conninfo))
        return connections[-1]

    monkeypatch.setattr(tenancy.db, "connect", connect)
    return connections


@pytest.fixture
def role_secret(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """The app_venue role's secret in (moto's) Secrets Manager; its ARN."""
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        yield client.create_secret(Name="venue-db", SecretString=json.dumps(SECRET))["ARN"]


def deployed_settings(secret_arn: str) -> Settings:
    """What template.yaml gives a venue function: its role, its secret, the proxy's host."""
    return Settings(
        database_role="app_venue",
        database_secret_arn=secret_arn,
        database_host=PROXY,
        token_issuer="https://issuer.example",
        token_audience="venue-api",
        jwks_url="https://issuer.example/.well-known/jwks.json",
    )


def test_the_conninfo_built_from_a_secret_verifies_the_server_against_the_shipped_bundle(
    role_secret: str, opened: list[FakeConnection]
) -> None:
    """Given a function deployed with its role's secret and RDS Proxy's endpoint, when it
    opens its connection, then it connects to the proxy as the secret's user, with TLS
    required and the certificate and host name verified (verify-full) against the RDS CA
    bundle in the tenancy layer, and the password survives quoting."""
    runtime = Runtime.from_settings(deployed_settings(role_secret))

    with runtime.database(DbRole.VENUE).connection():
        pass

    (connection,) = opened
    params = conninfo_to_dict(connection.conninfo)
    assert params["host"] == PROXY
    assert params["user"] == "app_venue"
    assert params["password"] == SECRET["password"]
    assert params["dbname"] == "venue"
    assert params["sslmode"] == "verify-full"
    assert params["sslrootcert"] == str(RDS_CA_BUNDLE)


def test_the_secrets_own_host_is_used_when_no_proxy_is_named() -> None:
    """Given a secret with a host and no proxy endpoint, when its conninfo is built, then it
    names the secret's host, still with verify-full against the bundle."""
    params = conninfo_from_secret(SECRET)

    assert conninfo_to_dict(params)["host"] == SECRET["host"]
    assert conninfo_to_dict(params)["sslmode"] == "verify-full"


# Starfield's Services Root G2, one of RDS Proxy's roots, has the serial number 0.
@pytest.mark.filterwarnings("ignore:Parsed a serial number")
def test_the_shipped_bundle_holds_the_rds_and_rds_proxy_authorities() -> None:
    """Given the bundle in the tenancy layer, when it is parsed, then it holds the Amazon RDS
    regional roots (the migrations' direct connection) and the Amazon Trust Services roots
    that sign RDS Proxy's certificates (the functions' connections), and only CA
    certificates."""
    certificates = x509.load_pem_x509_certificates(RDS_CA_BUNDLE.read_bytes())
    names = {
        attribute.value
        for certificate in certificates
        for attribute in certificate.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    }

    assert RDS_CA_BUNDLE.parent.name == "tenancy"
    assert "Amazon Root CA 1" in names
    assert "Amazon RDS eu-west-1 Root CA RSA2048 G1" in names
    assert all(
        certificate.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
        for certificate in certificates
    )


def test_one_connection_per_environment_is_reused_and_reopened_after_a_failure(
    opened: list[FakeConnection],
) -> None:
    """Given a function's single connection, when three requests use it and the connection
    breaks after the second, then the first two share one connection and the third opens a
    new one."""
    source = SingleConnection(lambda: "host=proxy")
    used: list[Any] = []

    for _ in range(2):
        with source.connection() as conn:
            used.append(conn)
    opened[0].broken = True
    with source.connection() as conn:
        used.append(conn)

    assert used[0] is used[1]
    assert used[2] is not used[0]
    assert len(opened) == 2


def test_connections_use_no_server_side_prepared_statements() -> None:
    """Given the options every gate connection is opened with, then server-side prepared
    statements are off (they would pin an RDS Proxy connection to one client) and the gate
    sends BEGIN and COMMIT itself; the bindings are transaction-local (tenancy.bindings)."""
    assert CONNECTION_OPTIONS == {"autocommit": True, "prepare_threshold": None}


@pytest.mark.parametrize("dsn", ["", "off"])
def test_errors_go_to_sentry_only_when_a_dsn_is_set(
    dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Given a function deployed with no Sentry DSN (empty, or the secret's placeholder),
    when it reports an error, then the Sentry SDK is not even imported."""
    import sys

    monkeypatch.delitem(sys.modules, "sentry_sdk", raising=False)
    runtime = Runtime.from_settings(
        deployed_settings("arn:unused").model_copy(update={"sentry_dsn": dsn})
    )

    runtime.report(RuntimeError("boom"))

    assert "sentry_sdk" not in sys.modules
