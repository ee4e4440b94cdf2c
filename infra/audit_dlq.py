"""`make audit-dlq` / `make audit-dlq ACTION=redrive`: the audit queue's dead letters.

``list`` shows each message in the DLQ (message id, venue group, receives, when first sent,
and its body, which names an event and nothing else) and leaves it there. ``redrive`` sends
each back to the audit queue in its own venue group, then deletes it from the DLQ: the
consumer is idempotent, so an event that was appended before its message died is found, not
appended twice. Fix the cause first (an unreadable message fails again and comes back).
Where it looks: infra/audit_local.py (AUDIT_QUEUE_URL, AUDIT_DLQ_URL, or `make dev`).
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from infra.audit_local import pipeline_settings

__all__ = ["DeadLetter", "dead_letters", "main", "redrive"]

#: Receives to make before concluding the DLQ is empty (a bound, not a wait).
_MAX_BATCHES = 1000


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    group: str
    receives: int
    sent_at: dt.datetime
    body: str
    receipt_handle: str


def _receive_all(sqs: Any, dlq_url: str, hold_seconds: int) -> list[DeadLetter]:
    letters: list[DeadLetter] = []
    for _ in range(_MAX_BATCHES):
        got = sqs.receive_message(
            QueueUrl=dlq_url,
            MaxNumberOfMessages=10,
            AttributeNames=["All"],
            VisibilityTimeout=hold_seconds,
        ).get("Messages", [])
        if not got:
            break
        for message in got:
            attributes = message.get("Attributes", {})
            letters.append(
                DeadLetter(
                    message["MessageId"],
                    attributes.get("MessageGroupId", ""),
                    int(attributes.get("ApproximateReceiveCount", 0)),
                    dt.datetime.fromtimestamp(
                        int(attributes.get("SentTimestamp", 0)) / 1000, dt.UTC
                    ),
                    message["Body"],
                    message["ReceiptHandle"],
                )
            )
    return letters


def dead_letters(sqs: Any, dlq_url: str) -> list[DeadLetter]:
    """Every message in the DLQ, left there (visible again at once)."""
    letters = _receive_all(sqs, dlq_url, hold_seconds=60)
    for letter in letters:
        sqs.change_message_visibility(
            QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle, VisibilityTimeout=0
        )
    return letters


def redrive(sqs: Any, dlq_url: str, queue_url: str) -> list[DeadLetter]:
    """Move every DLQ message back to the audit queue; the messages moved."""
    moved = _receive_all(sqs, dlq_url, hold_seconds=300)
    for letter in moved:
        sqs.send_message(
            QueueUrl=queue_url,
            MessageBody=letter.body,
            MessageGroupId=letter.group or "platform",
            # A new deduplication id: the event's own may still be in SQS's 5-minute window.
            MessageDeduplicationId=f"redrive-{letter.message_id}",
        )
        sqs.delete_message(QueueUrl=dlq_url, ReceiptHandle=letter.receipt_handle)
    return moved


def _show(letter: DeadLetter) -> str:
    from tenancy.log import scrub

    body = scrub(letter.body if len(letter.body) <= 200 else letter.body[:200] + "…")
    return (
        f"{letter.message_id}  group {letter.group or '-'}  receives {letter.receives}"
        f"  sent {letter.sent_at:%Y-%m-%d %H:%M:%S}Z  {body!r}"
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("action", choices=["list", "redrive"], nargs="?", default="list")
    args = parser.parse_args(argv)
    try:
        pipeline = pipeline_settings()
    except SystemExit as refusal:
        print(refusal, file=sys.stderr)
        return 2
    if not pipeline.dlq_url or (args.action == "redrive" and not pipeline.queue_url):
        print("set AUDIT_DLQ_URL (and AUDIT_QUEUE_URL to redrive)", file=sys.stderr)
        return 2
    sqs = pipeline.client("sqs")
    if args.action == "list":
        letters = dead_letters(sqs, pipeline.dlq_url)
        print("\n".join(_show(letter) for letter in letters) or "the DLQ is empty")
        return 0
    moved = redrive(sqs, pipeline.dlq_url, pipeline.queue_url)
    print(f"moved {len(moved)} message(s) back to the audit queue")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
