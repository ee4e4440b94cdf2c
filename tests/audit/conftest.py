"""Fixtures of the audit pipeline's tests: a database of their own (its chains, outbox and
triggers are touched by nobody else, and the tamper tests switch triggers off), the AWS side
in moto, the consumer and sweeper wired to both, and the gateway relaying to the queue."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest

from audit.alerts import Limits, Publisher
from audit.consume import consume
from audit.copies import BucketCopies
from audit.pipeline import AuditPipeline
from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.seed import seed
from tenancy.db import PooledConnections
from tenancy.relay import SqsRelay
from tests.support.audit import AuditAws, make_audit_aws
from tests.support.stack import close_runtime, make_api, make_runtime, trusted_keys

#: The tests' alert allowance: five at once, then one an hour (so none refills mid-test).
LIMITS = Limits(burst=5, refill_seconds=3600)


@pytest.fixture(scope="session")
def audit_database(server_url: str) -> Iterator[postgres.Database]:
    name = f"venue_audit_{uuid.uuid4().hex[:10]}"
    db = postgres.prepare(server_url, name, fresh=True)
    seed(db.admin_url)
    yield db
    postgres.drop(server_url, name)


@pytest.fixture
def audit_admin(audit_database: postgres.Database) -> Iterator[psycopg.Connection]:
    """The superuser of the audit tests' database, for Given and Then steps."""
    with psycopg.connect(audit_database.admin_url, autocommit=True) as conn:
        yield conn


@pytest.fixture
def aws(issuer: Issuer) -> AuditAws:
    """Queue, DLQ, locked bucket, topic and inbox of this test (the session's moto, which
    lives as long as the issuer fixture)."""
    return make_audit_aws()


@pytest.fixture
def pipeline(audit_database: postgres.Database, aws: AuditAws) -> Iterator[AuditPipeline]:
    """The consumer's and the sweeper's wiring: app_audit connections and this test's AWS."""
    connections = PooledConnections(audit_database.audit_url, max_size=4)
    yield AuditPipeline(
        database=connections,
        copies=BucketCopies(aws.bucket, client=lambda: aws.s3),
        alerts=Publisher(aws.topic_arn, client=lambda: aws.sns),
        queue_url=aws.queue_url,
        sqs=lambda: aws.sqs,
        limits=LIMITS,
    )
    connections.close()


Handler = Any


@pytest.fixture
def consumer(pipeline: AuditPipeline) -> Handler:
    """The Lambda handler of the consumer, on this test's pipeline."""

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return consume(event, pipeline, context)

    return handler


@pytest.fixture
def audit_api(
    audit_database: postgres.Database, aws: AuditAws, signing_key: SigningKey, issuer: Issuer
) -> Iterator[ApiClient]:
    """The local gateway over the audit tests' database, relaying to this test's queue."""
    keys = trusted_keys(signing_key, issuer)
    runtime = make_runtime(audit_database, keys, pool_size=4)
    runtime.relay = SqsRelay(aws.queue_url, client=lambda: aws.sqs)
    yield make_api(runtime, keys, signing_key, audit_database.admin_url)
    close_runtime(runtime)
