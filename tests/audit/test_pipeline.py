"""The audit pipeline end to end: outbox → relay → SQS FIFO → consumer → hash-chained
audit_log row and object-locked copy; exactly-once effect under redelivery and racing
consumers; nothing lost when a send or a consumer fails; bad messages to the DLQ."""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import threading
import uuid
from typing import Any

import psycopg

from audit.chain import GENESIS, canonical, link
from audit.consume import consume
from audit.copies import sha256_b64
from audit.pipeline import AuditPipeline
from audit.sweep import sweep
from infra.audit_dlq import dead_letters, redrive
from infra.local.audit import deliver_once, drain, lambda_sqs_event
from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, USER, menu_item_id
from tenancy.audit import OutboxEvent, parse_message
from tests.audit.conftest import Handler
from tests.support.audit import (
    AuditAws,
    dlq_messages,
    logged_rows,
    outbox_events,
    send,
    verified,
)
from tests.support.second_factor import new_venue

RISOTTO = menu_item_id("Risotto ai funghi")


def object_versions(aws: AuditAws, key: str) -> list[dict[str, Any]]:
    listed = aws.s3.list_object_versions(Bucket=aws.bucket, Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def test_a_price_change_becomes_a_chained_row_and_a_locked_copy(
    audit_api: ApiClient,
    audit_admin: psycopg.Connection,
    aws: AuditAws,
    consumer: Handler,
) -> None:
    """Given centrale's chain as it stands, when its head chef changes the risotto's price
    through the gateway and the consumer takes the queue's message, then the outbox row
    names the change, the message names the event, audit_log holds it as the next link of
    centrale's chain (hash = sha256(prev_hash ‖ canonical event)), and the bucket holds a
    COMPLIANCE-locked copy whose content, checksum and chain metadata equal the row."""
    before = logged_rows(audit_admin, CENTRALE)
    head_seq, head_hash = (before[-1].seq, before[-1].hash) if before else (0, GENESIS)

    response = audit_api.patch(
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": 1725},
    )

    assert response.status == 200, response.text
    outbox = audit_admin.execute(
        "SELECT id, actor_user_id, details, published_at FROM audit_outbox"
        " WHERE venue_id = %s AND action = 'menu.price_changed' AND target_id = %s"
        " ORDER BY occurred_at DESC LIMIT 1",
        (CENTRALE, str(RISOTTO)),
    ).fetchone()
    assert outbox is not None
    event_id, actor, details, published_at = outbox
    assert (actor, details["price_cents"], published_at) == (USER["head_chef"].id, 1725, None)

    (queued,) = aws.sqs.receive_message(
        QueueUrl=aws.queue_url, AttributeNames=["All"], VisibilityTimeout=0
    )["Messages"]
    assert parse_message(queued["Body"]) == OutboxEvent(event_id, CENTRALE)
    assert queued["Attributes"]["MessageGroupId"] == str(CENTRALE)
    assert queued["Attributes"]["MessageDeduplicationId"] == str(event_id)

    (delivery,) = drain(aws.sqs, aws.queue_url, consumer)
    assert (delivery.received, delivery.failed) == (1, frozenset())

    row = logged_rows(audit_admin, CENTRALE)[-1]
    assert row.event_id == event_id
    assert (row.seq, row.prev_hash) == (head_seq + 1, head_hash)
    assert row.hash == hashlib.sha256(head_hash + canonical(row.event)).digest()
    assert row.event["action"] == "menu.price_changed"
    assert row.event["venue_id"] == str(CENTRALE)
    assert row.event["actor_user_id"] == str(USER["head_chef"].id)
    assert row.event["details"] == details
    assert audit_admin.execute(
        "SELECT published_at IS NOT NULL FROM audit_outbox WHERE id = %s", (event_id,)
    ).fetchone() == (True,)

    copy = aws.s3.get_object(Bucket=aws.bucket, Key=row.key, ChecksumMode="ENABLED")
    content = copy["Body"].read()
    assert content == canonical(row.event)
    assert json.loads(content) == row.event
    assert copy["ChecksumSHA256"] == sha256_b64(content)
    assert copy["Metadata"] == {
        "seq": str(row.seq),
        "prev-hash": row.prev_hash.hex(),
        "hash": row.hash.hex(),
        "event-id": str(event_id),
    }
    assert copy["ObjectLockMode"] == "COMPLIANCE"
    assert copy["ObjectLockRetainUntilDate"] > dt.datetime.now(dt.UTC)
    assert row.key.startswith(f"{CENTRALE}/{row.event['occurred_at'][:10]}/")
    assert row.key.endswith(f"/{row.seq:012d}/{event_id}.json")


def test_the_same_message_five_times_leaves_one_row_and_one_object(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given an event's message, when the consumer is handed it five times, then each
    delivery succeeds and the venue's chain holds the event once, with one object version."""
    venue = new_venue(audit_admin)
    send(aws, outbox_events(audit_admin, venue, 1))
    (message,) = aws.sqs.receive_message(
        QueueUrl=aws.queue_url, AttributeNames=["All"], MaxNumberOfMessages=10
    )["Messages"]
    arn = aws.sqs.get_queue_attributes(QueueUrl=aws.queue_url, AttributeNames=["QueueArn"])
    event = lambda_sqs_event([message], arn["Attributes"]["QueueArn"])

    answers = [consumer(event, None) for _ in range(5)]

    assert answers == [{"batchItemFailures": []}] * 5
    (row,) = logged_rows(audit_admin, venue)
    assert row.seq == 1
    assert len(object_versions(aws, row.key)) == 1
    assert verified(audit_admin, aws, venue, bucket_only=False).intact


def test_two_consumers_racing_on_one_venue_append_each_event_once(
    audit_admin: psycopg.Connection, aws: AuditAws, pipeline: AuditPipeline
) -> None:
    """Given 30 events of one venue, when two consumers are handed all of them at once (one
    in order, the other in reverse, in batches of ten), then each event is one row, the
    sequence runs 1..30 without a gap or a fork, every link holds, and each row has one
    locked copy."""
    venue = new_venue(audit_admin)
    events = outbox_events(audit_admin, venue, 30)

    def batches(order: list[OutboxEvent]) -> list[dict[str, Any]]:
        records = [
            {
                "messageId": str(uuid.uuid4()),
                "receiptHandle": str(uuid.uuid4()),
                "body": event.message_body(),
                "attributes": {
                    "ApproximateReceiveCount": "1",
                    "MessageGroupId": event.group,
                    "MessageDeduplicationId": str(event.id),
                },
                "messageAttributes": {},
                "eventSource": "aws:sqs",
            }
            for event in order
        ]
        return [{"Records": records[i : i + 10]} for i in range(0, len(records), 10)]

    start = threading.Barrier(2)
    answers: list[dict[str, Any]] = []

    def run(order: list[OutboxEvent]) -> None:
        start.wait()
        answers.extend(consume(batch, pipeline) for batch in batches(order))

    threads = [
        threading.Thread(target=run, args=(events,)),
        threading.Thread(target=run, args=(events[::-1],)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert all(answer == {"batchItemFailures": []} for answer in answers)
    rows = logged_rows(audit_admin, venue)
    assert sorted(row.event_id for row in rows) == sorted(event.id for event in events)
    assert [row.seq for row in rows] == list(range(1, 31))
    previous = GENESIS
    for row in rows:
        assert row.prev_hash == previous
        assert row.hash == link(row.prev_hash, canonical(row.event))
        previous = row.hash
        assert len(object_versions(aws, row.key)) == 1
    assert verified(audit_admin, aws, venue, bucket_only=False).intact
    assert verified(audit_admin, aws, venue, bucket_only=True).intact


class Unreachable:
    """An SQS client whose queue cannot be reached."""

    def send_message_batch(self, **kwargs: Any) -> Any:
        raise ConnectionError("the audit queue cannot be reached")


def test_a_send_that_fails_after_commit_is_delivered_by_the_sweeper(
    audit_api: ApiClient,
    audit_admin: psycopg.Connection,
    aws: AuditAws,
    pipeline: AuditPipeline,
    consumer: Handler,
) -> None:
    """Given a relay whose queue cannot be reached, when a price change commits, then the
    user gets 200 and nothing is queued; when the sweeper runs, the event is queued, and the
    consumer appends it and copies it."""
    audit_api.gateway.runtime.relay = lambda events: Unreachable().send_message_batch()
    response = audit_api.patch(
        f"/venues/{CENTRALE}/menu/items/{RISOTTO}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": 1730},
    )
    assert response.status == 200, response.text
    event_id = audit_admin.execute(
        "SELECT id FROM audit_outbox WHERE venue_id = %s AND details->>'price_cents' = '1730'"
        " AND published_at IS NULL",
        (CENTRALE,),
    ).fetchone()
    assert event_id is not None
    assert deliver_once(aws.sqs, aws.queue_url, consumer).received == 0

    counts = sweep(pipeline, older_than=dt.timedelta(0))
    drain(aws.sqs, aws.queue_url, consumer)

    assert counts["resent"] >= 1
    (row,) = [row for row in logged_rows(audit_admin, CENTRALE) if row.event_id == event_id[0]]
    assert len(object_versions(aws, row.key)) == 1
    assert audit_admin.execute(
        "SELECT published_at IS NOT NULL FROM audit_outbox WHERE id = %s", event_id
    ).fetchone() == (True,)


class DiesBeforeThePut:
    """The bucket side of a consumer that dies after committing the row and before the put
    (once): the message is then neither deleted nor completed."""

    def __init__(self, real: Any) -> None:
        self.real = real
        self.died = False

    def put(self, logged: Any) -> None:
        if not self.died:
            self.died = True
            raise RuntimeError("the container died")
        self.real.put(logged)


def test_a_consumer_that_dies_between_row_and_object_completes_on_redelivery(
    audit_admin: psycopg.Connection, aws: AuditAws, pipeline: AuditPipeline, consumer: Handler
) -> None:
    """Given an event whose first consumer commits the row and dies before the put, when the
    message is delivered again, then the object is written, and there is still one row."""
    venue = new_venue(audit_admin)
    send(aws, outbox_events(audit_admin, venue, 1))
    pipeline.copies = DiesBeforeThePut(pipeline.copies)  # type: ignore[assignment]

    first = deliver_once(aws.sqs, aws.queue_url, consumer)
    (row,) = logged_rows(audit_admin, venue)
    assert first.received == 1
    assert len(first.failed) == 1
    assert object_versions(aws, row.key) == []

    drain(aws.sqs, aws.queue_url, consumer)

    assert logged_rows(audit_admin, venue) == [row]
    assert len(object_versions(aws, row.key)) == 1
    assert verified(audit_admin, aws, venue, bucket_only=False).intact


def test_bad_messages_go_to_the_dlq_and_the_rest_of_the_batch_is_processed(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given a batch with a malformed message, one of an unknown schema version and one
    naming an event nobody committed, among good events of two venues, when the queue is
    delivered, then the good events are appended by the first delivery, each bad message
    fails every time and ends in the DLQ after the bounded receives, and the queue empties."""
    venues = [new_venue(audit_admin), new_venue(audit_admin)]
    good = [event for venue in venues for event in outbox_events(audit_admin, venue, 3)]
    bad = {
        "bad-json": "{not json",
        "bad-version": json.dumps({"v": 9, "event_id": str(uuid.uuid4()), "venue_id": None}),
        "bad-event": OutboxEvent(uuid.uuid4(), venues[0]).message_body(),
    }
    for group, body in bad.items():
        aws.sqs.send_message(
            QueueUrl=aws.queue_url,
            MessageBody=body,
            MessageGroupId=group,
            MessageDeduplicationId=group,
        )
    send(aws, good)

    first = deliver_once(aws.sqs, aws.queue_url, consumer)
    deliveries = [first, *drain(aws.sqs, aws.queue_url, consumer)]

    assert first.received == len(good) + len(bad)
    assert len(first.failed) == len(bad)
    for venue in venues:
        assert len(logged_rows(audit_admin, venue)) == 3
    assert sorted(dlq_messages(aws)) == sorted(bad.values())
    assert aws.sqs.receive_message(QueueUrl=aws.queue_url).get("Messages") is None
    assert len(deliveries) <= 1 + 3 * len(bad)


def test_the_dlq_command_lists_and_redrives_dead_letters(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given an event whose message died (the consumer failed it every time) and an
    unreadable message, both in the DLQ, when operations list the DLQ, then both are shown
    with their venue group and receives, and stay; when they redrive it (once the cause is
    fixed), the messages go back to the audit queue and the event is appended."""
    venue = new_venue(audit_admin)
    (event,) = outbox_events(audit_admin, venue, 1)
    audit_admin.execute("UPDATE audit_outbox SET venue_id = NULL WHERE id = %s", (event.id,))
    send(aws, [event])
    aws.sqs.send_message(
        QueueUrl=aws.queue_url,
        MessageBody="garbage",
        MessageGroupId="garbage",
        MessageDeduplicationId="garbage",
    )
    drain(aws.sqs, aws.queue_url, consumer)

    listed = dead_letters(aws.sqs, aws.dlq_url)
    assert sorted((letter.group, letter.body) for letter in listed) == sorted(
        [(str(venue), event.message_body()), ("garbage", "garbage")]
    )
    assert all(letter.receives >= 3 for letter in listed)
    assert len(dead_letters(aws.sqs, aws.dlq_url)) == 2  # listing leaves them there

    audit_admin.execute("UPDATE audit_outbox SET venue_id = %s WHERE id = %s", (venue, event.id))
    moved = redrive(aws.sqs, aws.dlq_url, aws.queue_url)
    drain(aws.sqs, aws.queue_url, consumer)

    assert len(moved) == 2
    assert [row.event_id for row in logged_rows(audit_admin, venue)] == [event.id]
    assert [letter.body for letter in dead_letters(aws.sqs, aws.dlq_url)] == ["garbage"]


def test_an_event_hashes_the_same_once_stored_whatever_its_details_hold(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given an event whose details hold non-ASCII text, floats, a large integer, a float
    that jsonb stores as an integer, nulls, booleans and nesting, when it is consumed, then
    the row read back from jsonb hashes to its stored hash, its copy holds the same bytes,
    and verify finds the chain intact (the canonical form survives storage)."""
    venue = new_venue(audit_admin)
    event_id = uuid.uuid4()
    details = {
        "note": 'caffè \u2013 ½ ☕ "quoted" \\ back\nline',
        "ratio": 0.1,
        "whole": 1.0,
        "big": 10**16,
        "huge_float": 1e16,
        "nested": {"b": [1, 2.5, None, True], "a": {"z": False}},
    }
    audit_admin.execute(
        "INSERT INTO audit_outbox (id, venue_id, action, target_type, details)"
        " VALUES (%s, %s, 'menu.price_changed', 'menu_item', %s)",
        (event_id, venue, json.dumps(details)),
    )
    send(aws, [OutboxEvent(event_id, venue)])

    drain(aws.sqs, aws.queue_url, consumer)

    (row,) = logged_rows(audit_admin, venue)
    assert row.hash == link(row.prev_hash, canonical(row.event))
    assert row.event["details"]["note"] == details["note"]
    copy = aws.s3.get_object(Bucket=aws.bucket, Key=row.key)["Body"].read()
    assert copy == canonical(row.event)
    assert verified(audit_admin, aws, venue, bucket_only=False).intact
