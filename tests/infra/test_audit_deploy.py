"""The audit pipeline's deploy: the consumer and the sweeper (written by hand in
template.yaml) hold exactly what their code uses, only the consumer writes the object-locked
bucket, and every function whose role writes audit events can relay them."""

from __future__ import annotations

from typing import Any

from infra.functions_template import show
from infra.template import load_template
from tenancy.catalogue import discover
from tests.conftest import ROOT

TEMPLATE = load_template()
RESOURCES = TEMPLATE["Resources"]
DECLARED = discover(ROOT / "functions")


def function(handler: str) -> dict[str, Any]:
    props: dict[str, Any]
    (props,) = [
        r["Properties"]
        for r in RESOURCES.values()
        if r["Type"] == "AWS::Serverless::Function" and r["Properties"]["Handler"] == handler
    ]
    return props


def permissions(props: dict[str, Any]) -> set[tuple[str, str]]:
    """(action, resource as written) of a function's policies."""
    found: set[tuple[str, str]] = set()
    for policy in props.get("Policies", []):
        if "AWSSecretsManagerGetSecretValuePolicy" in policy:
            secret = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
            found.add(("secretsmanager:GetSecretValue", show(secret)))
        for statement in policy.get("Statement", []):
            assert statement["Effect"] == "Allow"
            resources = statement["Resource"]
            for resource in resources if isinstance(resources, list) else [resources]:
                found |= {(action, show(resource)) for action in statement["Action"]}
    return found


SECRET = ("secretsmanager:GetSecretValue", "!Ref AuditDatabaseSecret")
OBJECTS = '!Sub "${AuditBucket.Arn}/*"'


def test_the_consumer_holds_exactly_what_its_code_uses() -> None:
    """Given the consumer's section, then it reads the app_audit secret, puts objects (the
    bucket's default retention locks them) and heads them, encrypts with the bucket's key,
    publishes alerts; it is given exactly those variables, RDS Proxy's endpoint among them,
    runs in the private subnets without the way out to the internet, and deploys after the
    migrations."""
    resource = RESOURCES["AuditConsumerFunction"]
    props = function("audit.consume.handler")

    assert permissions(props) == {
        SECRET,
        ("s3:PutObject", OBJECTS),
        ("s3:GetObject", OBJECTS),
        ("kms:GenerateDataKey", "!GetAtt AuditBucketKey.Arn"),
        ("sns:Publish", "!Ref AlertsTopic"),
    }
    assert props["Environment"]["Variables"] == {
        "DATABASE_ROLE": "app_audit",
        "DATABASE_SECRET_ARN": {"Ref": "AuditDatabaseSecret"},
        "DATABASE_HOST": {"GetAtt": "DatabaseProxy.Endpoint"},
        "AUDIT_BUCKET_NAME": {"Ref": "AuditBucket"},
        "ALERTS_TOPIC_ARN": {"Ref": "AlertsTopic"},
    }
    assert props["VpcConfig"]["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}]
    assert resource["DependsOn"] == "DatabaseMigrations"


def test_the_consumer_reports_partial_batch_failures_from_the_audit_queue() -> None:
    """Given the consumer's event source, then it is the audit queue, in batches of at most
    ten, reporting failed messages one by one; the queue hides a message for at least six
    times the function's timeout and sends it to the DLQ after a bounded number of
    receives."""
    (source,) = function("audit.consume.handler")["Events"].values()
    queue = RESOURCES["AuditQueue"]["Properties"]
    timeout = TEMPLATE["Globals"]["Function"]["Timeout"]

    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"GetAtt": "AuditQueue.Arn"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert source["Properties"]["BatchSize"] <= 10
    assert queue["FifoQueue"] is True
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"GetAtt": "AuditDeadLetterQueue.Arn"}


def test_the_sweeper_runs_every_minute_with_only_the_queue_and_the_topic() -> None:
    props = function("audit.sweep.handler")
    (schedule,) = props["Events"].values()

    assert schedule == {"Type": "Schedule", "Properties": {"Schedule": "rate(1 minute)"}}
    assert permissions(props) == {
        SECRET,
        ("sqs:SendMessage", "!GetAtt AuditQueue.Arn"),
        ("sns:Publish", "!Ref AlertsTopic"),
    }
    assert set(props["Environment"]["Variables"]) == {
        "DATABASE_ROLE",
        "DATABASE_SECRET_ARN",
        "DATABASE_HOST",
        "AUDIT_QUEUE_URL",
        "ALERTS_TOPIC_ARN",
    }
    assert props["VpcConfig"]["SecurityGroupIds"] == [{"Ref": "FunctionSecurityGroup"}]
    assert RESOURCES["AuditSweeperFunction"]["DependsOn"] == "DatabaseMigrations"


def test_the_audit_bucket_is_locked_versioned_encrypted_private_and_kept() -> None:
    """Given the audit bucket, then Object Lock is on with a COMPLIANCE default retention of
    AuditRetentionDays, versions are kept, objects are encrypted with its own KMS key, no
    public access is possible, and deleting the stack keeps it."""
    bucket = RESOURCES["AuditBucket"]
    props = bucket["Properties"]
    (encryption,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]

    assert props["ObjectLockEnabled"] is True
    assert props["ObjectLockConfiguration"] == {
        "ObjectLockEnabled": "Enabled",
        "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": {"Ref": "AuditRetentionDays"}}},
    }
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    assert encryption["ServerSideEncryptionByDefault"] == {
        "SSEAlgorithm": "aws:kms",
        "KMSMasterKeyID": {"GetAtt": "AuditBucketKey.Arn"},
    }
    assert set(props["PublicAccessBlockConfiguration"].values()) == {True}
    assert len(props["PublicAccessBlockConfiguration"]) == 4
    assert (bucket["DeletionPolicy"], bucket["UpdateReplacePolicy"]) == ("Retain", "Retain")
    assert RESOURCES["AuditBucketKey"]["Properties"]["EnableKeyRotation"] is True


def test_only_the_consumer_writes_the_audit_bucket() -> None:
    """Given every function's policies and the bucket's policy, then no function but the
    consumer may put an object anywhere, and the bucket refuses writes from any other
    principal and every request without TLS."""
    writers = {
        props["Handler"]
        for resource in RESOURCES.values()
        if resource["Type"] == "AWS::Serverless::Function"
        for props in [resource["Properties"]]
        if any(action.startswith("s3:Put") for action, _ in permissions(props))
    }
    document = RESOURCES["AuditBucketPolicy"]["Properties"]["PolicyDocument"]
    statements = {statement["Sid"]: statement for statement in document["Statement"]}
    tls, others = statements["DenyWithoutTls"], statements["OnlyTheConsumerWrites"]

    assert writers == {"audit.consume.handler"}
    assert (tls["Effect"], tls["Principal"], tls["Action"]) == ("Deny", "*", "s3:*")
    assert tls["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert (others["Effect"], others["Principal"]) == ("Deny", "*")
    assert others["Action"] == "s3:PutObject"
    assert others["Condition"] == {
        "ArnNotEquals": {"aws:PrincipalArn": {"GetAtt": "AuditConsumerFunctionRole.Arn"}}
    }


#: Routes whose role never writes an audit event: no database, the venue role unbound, or
#: the webhook ingress's role (it may insert Stripe's events and nothing else).
NOT_RELAYING = {
    "webhooks.receive_platform_event.handler",
    "webhooks.receive_connect_event.handler",
    "health.get_health.handler",
    "health.get_readiness.handler",
    "auth.get_jwks.handler",
    "auth.get_openid_configuration.handler",
    "disclosure.security_txt.handler",
}


def test_every_function_whose_role_writes_audit_events_can_relay_them() -> None:
    """Given the routes, then every one whose role may write audit_outbox (the issuer's on
    any route, the venue role's on a gated one, where the platform-admin override writes one)
    may send to the audit queue and knows its URL, and no other route may."""
    relaying = {
        route.handler
        for route in DECLARED
        if ("sqs:SendMessage", "!GetAtt AuditQueue.Arn") in permissions(function(route.handler))
        and "AUDIT_QUEUE_URL" in function(route.handler).get("Environment", {}).get("Variables", {})
    }

    assert relaying == {route.handler for route in DECLARED} - NOT_RELAYING


def test_the_stacks_alarms_and_the_retention_reach_operations() -> None:
    """Given the alerts topic, then the audit DLQ's depth, the audit lag and the API's 5xx
    rate alarm to it, and the retention of the locked copies is a deploy parameter."""
    for alarm in ("AuditDeadLetterQueueDepthAlarm", "AuditLagAlarm", "ApiServerErrorRateAlarm"):
        assert RESOURCES[alarm]["Properties"]["AlarmActions"] == [{"Ref": "AlertsTopic"}], alarm
    retention = TEMPLATE["Parameters"]["AuditRetentionDays"]
    assert (retention["Type"], retention["MinValue"]) == ("Number", 1)
