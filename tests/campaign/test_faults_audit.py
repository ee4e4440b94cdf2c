"""Audit pipeline faults with real processes: the AWS emulator (moto's server, a process of
its own) killed while requests keep coming, and the audit consumer (a process of its own)
killed mid-batch. Requests never notice the first, their events all arrive once the
emulator is back; the second leaves a half-done batch that redelivery completes, with no
event appended or copied twice. Nothing here touches the suite's own emulator."""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
import pytest

from audit.alerts import Publisher
from audit.chain import lock_key
from audit.consume import consume
from audit.copies import BucketCopies
from audit.pipeline import AuditPipeline
from audit.sweep import resend_outbox
from auth.config import Issuer
from infra.audit_verify import read_copies
from infra.local import postgres
from infra.local.audit import drain
from infra.local.aws import CREDENTIALS
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, LUME, NORD, USER, menu_item_id, seed
from tenancy.db import PooledConnections
from tenancy.relay import SqsRelay
from tests.campaign.record import full_size, record
from tests.conftest import ROOT
from tests.support.audit import (
    AuditAws,
    logged_rows,
    make_audit_aws,
    outbox_events,
    send,
    verified,
)
from tests.support.dev_stack import free_port
from tests.support.faults import Emulator, emulator, wait_for
from tests.support.logs import WrittenLog
from tests.support.stack import close_runtime, make_api, make_runtime, trusted_keys

RISOTTO = menu_item_id("Risotto ai funghi")
#: Requests made while the emulator is down; events per venue in the killed batch.
REQUESTS = 20 if full_size() else 3
PER_VENUE = 5 if full_size() else 3
SEEN: list[str] = []


@pytest.fixture(scope="module")
def audit_db(server_url: str) -> Iterator[postgres.Database]:
    """A database of these tests' own (their chains are nobody else's) on the suite's server,
    which they never stop."""
    name = f"venue_audit_faults_{uuid.uuid4().hex[:8]}"
    db = postgres.prepare(server_url, name, fresh=True)
    seed(db.admin_url, orders_per_venue=3)
    yield db
    postgres.drop(server_url, name)
    record(
        "faults-audit",
        cases=len(SEEN),
        outcome="requests succeeded with the emulator down and every event arrived once;"
        " a consumer killed mid-batch left nothing lost or duplicated",
        details=SEEN,
    )


@pytest.fixture(scope="module")
def aws_process() -> Iterator[Emulator]:
    with emulator(free_port()) as running:
        yield running


def relay_client(endpoint: str) -> Any:
    """The relay's SQS client as deployed (tenancy.relay: short timeouts, two attempts), at
    the emulator's endpoint."""
    import boto3
    from botocore.config import Config

    config = Config(connect_timeout=2, read_timeout=3, retries={"max_attempts": 2})
    return boto3.client("sqs", endpoint_url=endpoint, config=config, **CREDENTIALS)


def pipeline_for(db: postgres.Database, aws: AuditAws) -> AuditPipeline:
    return AuditPipeline(
        database=PooledConnections(db.audit_url, max_size=2),
        copies=BucketCopies(aws.bucket, client=lambda: aws.s3),
        alerts=Publisher(aws.topic_arn, client=lambda: aws.sns),
        queue_url=aws.queue_url,
        sqs=lambda: aws.sqs,
    )


def logged_times(admin: psycopg.Connection, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, int]:
    rows = admin.execute(
        "SELECT event_id, count(*) FROM audit_log WHERE event_id = ANY(%s) GROUP BY event_id",
        (event_ids,),
    ).fetchall()
    return {event_id: int(n) for event_id, n in rows}


def copies_of(
    aws: AuditAws, admin: psycopg.Connection, venue_id: uuid.UUID, ids: list[uuid.UUID]
) -> list[int]:
    """How many object versions the bucket holds for each event's row."""
    seqs = admin.execute(
        "SELECT seq FROM audit_log WHERE event_id = ANY(%s) ORDER BY seq", (ids,)
    ).fetchall()
    copies = read_copies(aws.s3, aws.bucket, venue_id)
    return [len(copies.get(int(seq), [])) for (seq,) in seqs]


def chain_links(admin: psycopg.Connection, venue_id: uuid.UUID) -> bool:
    """Whether every row of the venue's chain hashes to itself and names its predecessor,
    with no sequence number missing or repeated."""
    rows = logged_rows(admin, venue_id)
    return [row.seq for row in rows] == list(range(1, len(rows) + 1)) and all(
        row.intact and (i == 0 or row.prev_hash == rows[i - 1].hash) for i, row in enumerate(rows)
    )


def queued(aws: AuditAws) -> int:
    attributes = aws.sqs.get_queue_attributes(
        QueueUrl=aws.queue_url,
        AttributeNames=["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"],
    )["Attributes"]
    return int(attributes["ApproximateNumberOfMessages"]) + int(
        attributes["ApproximateNumberOfMessagesNotVisible"]
    )


def test_while_the_aws_emulator_is_down_requests_succeed_and_their_events_arrive_once_it_returns(
    audit_db: postgres.Database,
    aws_process: Emulator,
    signing_key: SigningKey,
    issuer: Issuer,
    written_log: WrittenLog,
) -> None:
    """Given the gateway relaying audit events to the emulator's queue, when the emulator's
    process is killed and the head chef changes a price several times, then every change
    is served (200), its relay's failed send is logged, and its event waits in the outbox
    (the sweeper, run meanwhile, fails and loses nothing); and when the emulator is back
    (empty), then the sweeper sends them, the consumer appends each exactly once with one
    locked copy, and the chain verifies."""
    aws = make_audit_aws(endpoint=aws_process.endpoint, name="outage")
    keys = trusted_keys(signing_key, issuer)
    runtime = make_runtime(audit_db, keys, pool_size=2, issuer=issuer)
    runtime.relay = SqsRelay(aws.queue_url, client=lambda: relay_client(aws_process.endpoint))
    api = make_api(runtime, keys, signing_key, audit_db.admin_url)
    pipeline = pipeline_for(audit_db, aws)
    prices = [1900 + n for n in range(REQUESTS)]
    try:
        api.token_for(USER["head_chef"].id)
        aws_process.stop()
        try:
            statuses = [
                api.patch(
                    f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
                    as_user=USER["head_chef"].id,
                    json_body={"price_cents": price},
                ).status
                for price in prices
            ]
            with pytest.raises(Exception):  # noqa: B017, PT011 - any failure to reach the queue
                resend_outbox(pipeline, dt.timedelta(0))
        finally:
            aws_process.start()
        assert statuses == [200] * REQUESTS
        relay_failures = [m for m in written_log.messages() if m.startswith("audit relay failed")]
        assert len(relay_failures) == REQUESTS  # each request's send failed, and was logged

        with psycopg.connect(audit_db.admin_url, autocommit=True) as admin:
            events = [
                row[0]
                for row in admin.execute(
                    "SELECT id FROM audit_outbox WHERE action = 'menu.price_changed'"
                    " AND target_id = %s AND (details->>'price_cents')::int = ANY(%s)"
                    " AND published_at IS NULL",
                    (str(RISOTTO), prices),
                ).fetchall()
            ]
            assert len(events) == REQUESTS

            aws = make_audit_aws(endpoint=aws_process.endpoint, name="outage")
            assert queued(aws) == 0
            pipeline.database.close()  # type: ignore[attr-defined]
            pipeline = pipeline_for(audit_db, aws)
            assert resend_outbox(pipeline, dt.timedelta(0)) >= REQUESTS

            def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
                return consume(event, pipeline, context)

            drain(aws.sqs, aws.queue_url, handler)
            pipeline.database.close()  # type: ignore[attr-defined]

            assert logged_times(admin, events) == {event: 1 for event in events}
            assert copies_of(aws, admin, CENTRALE, events) == [1] * REQUESTS
            assert verified(admin, aws, CENTRALE, bucket_only=False).intact
        SEEN.append(
            f"emulator killed: {REQUESTS} audited writes served 200, the sweeper failed"
            " and lost nothing"
        )
        SEEN.append(f"emulator back: {REQUESTS} events swept, appended once, copied once")
    finally:
        close_runtime(runtime)


def test_a_consumer_killed_mid_batch_leaves_nothing_lost_or_duplicated(
    audit_db: postgres.Database, aws_process: Emulator, issuer: Issuer
) -> None:
    """Given one batch holding events of nord and of lume, and lume's chain held by an
    admin, when the consumer (its own process) has appended nord's events and waits for
    lume's chain, and is killed there, then nord's events are in the log and nothing of
    lume's; and once the batch is visible again a new consumer process completes it: every
    event appended exactly once, one locked copy each, both chains link up, the queue and
    its dead-letter queue empty."""
    aws = make_audit_aws(endpoint=aws_process.endpoint, name="crash")
    config = {
        "endpoint": aws_process.endpoint,
        "queue_url": aws.queue_url,
        "bucket": aws.bucket,
        "topic_arn": aws.topic_arn,
        "audit_url": audit_db.audit_url,
    }
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in ("", "functions", "layers/tenancy")),
    }

    def consumer(**options: int) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "tests.support.audit_consumer", json.dumps(config | options)],
            cwd=ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )

    with psycopg.connect(audit_db.admin_url, autocommit=True) as admin:
        nord_events = outbox_events(admin, NORD, PER_VENUE)
        lume_events = outbox_events(admin, LUME, PER_VENUE)
        nord, lume = [e.id for e in nord_events], [e.id for e in lume_events]
        # FIFO: nord's group first, then lume's, in one batch of at most ten.
        send(aws, nord_events + lume_events)

        with psycopg.connect(audit_db.admin_url) as holder:
            holder.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key(LUME),))
            first = consumer(batches=1, visibility_timeout=2)
            try:
                wait_for(
                    lambda: admin.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE usename = 'app_audit'"
                        " AND wait_event_type = 'Lock'"
                    ).fetchone(),
                    bound=60,
                    what="the consumer waiting for lume's chain",
                )
                halfway = logged_times(admin, nord + lume)
            finally:
                first.kill()
                first.wait(timeout=30)
            holder.rollback()

        assert halfway == {event: 1 for event in nord}  # nord appended, lume not: mid-batch

        wait_for(
            lambda: (
                int(
                    aws.sqs.get_queue_attributes(
                        QueueUrl=aws.queue_url, AttributeNames=["ApproximateNumberOfMessages"]
                    )["Attributes"]["ApproximateNumberOfMessages"]
                )
                > 0
            ),
            bound=60,
            what="the killed consumer's batch visible again",
        )
        second = consumer(batches=0, visibility_timeout=30)
        output, _ = second.communicate(timeout=120)
        assert second.returncode == 0, output

        assert logged_times(admin, nord + lume) == {event: 1 for event in nord + lume}
        assert copies_of(aws, admin, NORD, nord) == [1] * PER_VENUE
        assert copies_of(aws, admin, LUME, lume) == [1] * PER_VENUE
        assert chain_links(admin, NORD)
        assert chain_links(admin, LUME)
        assert queued(aws) == 0
        assert aws.sqs.receive_message(QueueUrl=aws.dlq_url).get("Messages") is None
    SEEN.append(
        f"consumer killed mid-batch ({PER_VENUE} events appended, {PER_VENUE} waiting):"
        " redelivery appended and copied each event once, both chains link up"
    )
