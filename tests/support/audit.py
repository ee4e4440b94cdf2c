"""The audit pipeline's AWS side for one test (moto: the suite's in-process emulator), and
the helpers its tests share: events written to the outbox as the app writes them, the
trail read back, and the verifier run over both."""

from __future__ import annotations

import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import psycopg

from audit.chain import Logged
from infra.audit_verify import Report, read_copies, read_rows, verify, verify_bucket
from infra.local.aws import CREDENTIALS, REGION
from tenancy.audit import OutboxEvent
from tenancy.relay import send_batches

__all__ = [
    "AuditAws",
    "alerts_received",
    "dlq_messages",
    "logged_rows",
    "make_audit_aws",
    "outbox_events",
    "send",
    "verified",
]

#: Receives after which the test queues move a message to their DLQ (template.yaml: 5).
MAX_RECEIVES = 3


@dataclass(frozen=True)
class AuditAws:
    sqs: Any
    s3: Any
    sns: Any
    queue_url: str
    dlq_url: str
    bucket: str
    topic_arn: str
    #: A queue subscribed to the alerts topic: what operations would receive.
    inbox_url: str


def make_audit_aws(
    retention_days: int = 1, *, endpoint: str | None = None, name: str | None = None
) -> AuditAws:
    """Queue (FIFO, DLQ after MAX_RECEIVES), object-locked bucket (COMPLIANCE default
    retention), alerts topic and its inbox, named for one test; as template.yaml has them.
    In the suite's in-process moto, or in the emulator at ``endpoint`` (a real server)."""
    import boto3

    where: dict[str, Any] = {"region_name": REGION}
    if endpoint is not None:
        where |= {"endpoint_url": endpoint, **CREDENTIALS}
    sqs = boto3.client("sqs", **where)
    s3 = boto3.client("s3", **where)
    sns = boto3.client("sns", **where)
    name = name or uuid.uuid4().hex[:10]
    dlq = sqs.create_queue(QueueName=f"audit-dlq-{name}.fifo", Attributes={"FifoQueue": "true"})
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])
    queue = sqs.create_queue(
        QueueName=f"audit-{name}.fifo",
        Attributes={
            "FifoQueue": "true",
            "RedrivePolicy": json.dumps(
                {
                    "deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"],
                    "maxReceiveCount": MAX_RECEIVES,
                }
            ),
        },
    )
    bucket = f"audit-{name}"
    s3.create_bucket(
        Bucket=bucket,
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": retention_days}},
        },
    )
    topic = sns.create_topic(Name=f"alerts-{name}")["TopicArn"]
    inbox = sqs.create_queue(QueueName=f"alerts-inbox-{name}")["QueueUrl"]
    inbox_arn = sqs.get_queue_attributes(QueueUrl=inbox, AttributeNames=["QueueArn"])
    sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=inbox_arn["Attributes"]["QueueArn"])
    return AuditAws(sqs, s3, sns, queue["QueueUrl"], dlq["QueueUrl"], bucket, topic, inbox)


def outbox_events(
    admin: psycopg.Connection,
    venue_id: uuid.UUID | None,
    count: int,
    *,
    action: str = "menu.price_changed",
    critical: bool = False,
) -> list[OutboxEvent]:
    """``count`` events committed to the outbox as a request would commit them."""
    events = [OutboxEvent(uuid.uuid4(), venue_id) for _ in range(count)]
    with admin.transaction():
        for index, event in enumerate(events):
            admin.execute(
                "INSERT INTO audit_outbox (id, venue_id, action, target_type, target_id,"
                " details, critical) VALUES (%s, %s, %s, 'menu_item', %s, %s, %s)",
                (
                    event.id,
                    venue_id,
                    action,
                    str(uuid.uuid4()),
                    json.dumps({"price_cents": 100 + index, "note": "caffè"}),
                    critical,
                ),
            )
    return events


def send(aws: AuditAws, events: Sequence[OutboxEvent]) -> None:
    """Send the events' messages to the audit queue, as the relay does."""
    assert send_batches(aws.sqs, aws.queue_url, events) == []


def logged_rows(admin: psycopg.Connection, venue_id: uuid.UUID | None) -> list[Logged]:
    where = "venue_id IS NULL" if venue_id is None else "venue_id = %s"
    rows = admin.execute(
        f"SELECT event_id, venue_id, seq, prev_hash, hash, event FROM audit_log WHERE {where}"
        " ORDER BY seq",
        () if venue_id is None else (venue_id,),
    ).fetchall()
    return [Logged(e, v, int(s), bytes(p), bytes(h), ev) for e, v, s, p, h, ev in rows]


def verified(
    admin: psycopg.Connection, aws: AuditAws, venue_id: uuid.UUID | None, *, bucket_only: bool
) -> Report:
    """What `make audit-verify` says of the venue's chain (or of its copies alone)."""
    copies = read_copies(aws.s3, aws.bucket, venue_id)
    chain = "platform" if venue_id is None else str(venue_id)
    if bucket_only:
        return verify_bucket(chain, copies)
    return verify(chain, read_rows(admin, venue_id), copies)


def _receive_all(sqs: Any, queue_url: str) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    for _ in range(100):  # a bound, not a wait
        got = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=30,
        ).get("Messages", [])
        if not got:
            break
        messages += got
    return messages


def alerts_received(aws: AuditAws) -> list[dict[str, Any]]:
    """Every SNS message the alerts topic delivered to its inbox since the last call:
    its subject and its (JSON) message."""
    received = []
    for message in _receive_all(aws.sqs, aws.inbox_url):
        envelope = json.loads(message["Body"])
        received.append({"subject": envelope["Subject"], **json.loads(envelope["Message"])})
        aws.sqs.delete_message(QueueUrl=aws.inbox_url, ReceiptHandle=message["ReceiptHandle"])
    return received


def dlq_messages(aws: AuditAws) -> list[str]:
    """The bodies in the DLQ (left there, visible again)."""
    messages = _receive_all(aws.sqs, aws.dlq_url)
    for message in messages:
        aws.sqs.change_message_visibility(
            QueueUrl=aws.dlq_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
        )
    return [message["Body"] for message in messages]
