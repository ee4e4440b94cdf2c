"""The AWS emulator of `make dev` (moto's server) with the resources the stack expects."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

REGION = "eu-south-1"
CREDENTIALS = {
    "aws_access_key_id": "local",
    "aws_secret_access_key": "local",
    "region_name": REGION,
}


@dataclass(frozen=True)
class LocalAws:
    endpoint: str
    audit_queue_url: str
    audit_dlq_url: str
    audit_bucket: str
    alerts_topic_arn: str
    signing_key_id: str
    database_secret_arn: str


def start(host: str, port: int) -> tuple[Any, str]:
    import logging

    from moto.server import ThreadedMotoServer

    logging.getLogger("werkzeug").setLevel(logging.WARNING)

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    server.start()
    return server, f"http://{host}:{port}"


def client(endpoint: str, service: str) -> Any:
    import boto3

    return boto3.client(service, endpoint_url=endpoint, **CREDENTIALS)


def create_signing_key(kms: Any, description: str = "access tokens (local)") -> str:
    """A new ES256 (P-256) signing key in ``kms``, as the issuer's is in AWS; its key id."""
    key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256", Description=description)
    key_id: str = key["KeyMetadata"]["KeyId"]
    return key_id


def provision(endpoint: str, runtime_url: str) -> LocalAws:
    """Create what template.yaml would: queues, the object-locked bucket, topic, keys."""

    sqs = client(endpoint, "sqs")
    dlq = sqs.create_queue(QueueName="audit-dlq.fifo", Attributes={"FifoQueue": "true"})
    dlq_arn = sqs.get_queue_attributes(QueueUrl=dlq["QueueUrl"], AttributeNames=["QueueArn"])
    queue = sqs.create_queue(
        QueueName="audit.fifo",
        Attributes={
            "FifoQueue": "true",
            "RedrivePolicy": json.dumps(
                {"deadLetterTargetArn": dlq_arn["Attributes"]["QueueArn"], "maxReceiveCount": 5}
            ),
        },
    )
    s3 = client(endpoint, "s3")
    bucket = "venue-audit-local"
    s3.create_bucket(
        Bucket=bucket,
        ObjectLockEnabledForBucket=True,
        CreateBucketConfiguration={"LocationConstraint": REGION},
    )
    s3.put_object_lock_configuration(
        Bucket=bucket,
        ObjectLockConfiguration={
            "ObjectLockEnabled": "Enabled",
            "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": 1}},
        },
    )
    topic = client(endpoint, "sns").create_topic(Name="venue-alerts")
    signing_key_id = create_signing_key(client(endpoint, "kms"))
    secret = client(endpoint, "secretsmanager").create_secret(
        Name="venue/runtime-database", SecretString=json.dumps({"conninfo": runtime_url})
    )
    return LocalAws(
        endpoint=endpoint,
        audit_queue_url=queue["QueueUrl"],
        audit_dlq_url=dlq["QueueUrl"],
        audit_bucket=bucket,
        alerts_topic_arn=topic["TopicArn"],
        signing_key_id=signing_key_id,
        database_secret_arn=secret["ARN"],
    )
