"""The audit consumer as a process of its own, so a test can kill it mid-batch:
``python -m tests.support.audit_consumer '<json>'`` with the emulator's endpoint, the
queue, bucket and topic, the app_audit connection, and ``batches`` (how many deliveries to
make; 0: until the queue gives none) and ``visibility_timeout`` (seconds)."""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import Any

from audit.alerts import Publisher
from audit.consume import consume
from audit.copies import BucketCopies
from audit.pipeline import AuditPipeline
from infra.local.audit import deliver_once
from infra.local.aws import client
from tenancy.db import PooledConnections


def main(config: Mapping[str, Any]) -> None:
    endpoint = config["endpoint"]
    sqs, s3, sns = (client(endpoint, service) for service in ("sqs", "s3", "sns"))
    connections = PooledConnections(config["audit_url"], max_size=2)
    pipeline = AuditPipeline(
        database=connections,
        copies=BucketCopies(config["bucket"], client=lambda: s3),
        alerts=Publisher(config["topic_arn"], client=lambda: sns),
        queue_url=config["queue_url"],
        sqs=lambda: sqs,
    )

    def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
        return consume(event, pipeline, context)

    batches = int(config.get("batches", 0))
    for _ in range(batches or 1000):
        delivery = deliver_once(
            sqs,
            config["queue_url"],
            handler,
            visibility_timeout=int(config.get("visibility_timeout", 30)),
        )
        print(json.dumps({"received": delivery.received, "failed": sorted(delivery.failed)}))
        sys.stdout.flush()
        if not batches and not delivery.received:
            break
    connections.close()


if __name__ == "__main__":
    main(json.loads(sys.argv[1]))
