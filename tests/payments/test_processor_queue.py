"""The processor as Lambda runs it on the webhook queue: a batch in which one message names
an event that is not stored (or is no webhook message at all) reports that one as failed,
for SQS to deliver again, and applies the rest."""

from __future__ import annotations

import json
import uuid

import psycopg

from tests.support.fake_stripe import FakeStripe
from tests.support.payments import Payments, event_body, signature
from webhooks.process import consume


def record(body: str, group: str = "acct_queue") -> dict[str, object]:
    return {
        "messageId": str(uuid.uuid4()),
        "receiptHandle": "handle",
        "body": body,
        "attributes": {
            "ApproximateReceiveCount": "1",
            "MessageGroupId": group,
            "MessageDeduplicationId": str(uuid.uuid4()),
        },
        "messageAttributes": {},
        "md5OfBody": "",
        "eventSource": "aws:sqs",
        "eventSourceARN": "arn:aws:sqs:eu-west-1:000000000000:webhooks.fifo",
        "awsRegion": "eu-west-1",
    }


def test_a_batch_reports_only_the_messages_that_failed(
    payments: Payments, admin_db: psycopg.Connection
) -> None:
    body = event_body("customer.updated", account=None, obj={"id": "cus_1", "object": "customer"})
    stored = payments.post("platform", body, signature(body, FakeStripe.platform_webhook_secret))
    assert stored.status == 200
    (message,) = payments.queue.take()
    good = record(message.body(), group="platform")
    missing = record(json.dumps({"v": 1, "event_id": "evt_neverstored"}), group="other")
    garbage = record("not a message", group="third")

    answer = consume({"Records": [good, missing, garbage]}, payments.processor)

    failed = {item["itemIdentifier"] for item in answer["batchItemFailures"]}
    assert failed == {missing["messageId"], garbage["messageId"]}
    status = admin_db.execute(
        "SELECT status FROM stripe_events WHERE id = %s", (json.loads(body)["id"],)
    ).fetchone()
    assert status == ("ignored",)
