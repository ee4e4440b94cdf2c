"""The payments deploy: the webhook routes hold their secrets and the webhook queue and no
more, the processor (written by hand in template.yaml) holds exactly what its code uses,
and the webhook queue is FIFO with a dead-letter queue."""

from __future__ import annotations

from tests.infra.test_audit_deploy import RESOURCES, TEMPLATE, function, permissions


def test_the_webhook_routes_may_store_and_queue_and_nothing_else() -> None:
    """Given the two webhook routes, then each reads the app_webhook role's secret and the
    webhook signing secrets, sends to the webhook queue, and holds nothing else: no binding
    key, no Stripe API key, no audit queue."""
    for handler in (
        "webhooks.receive_platform_event.handler",
        "webhooks.receive_connect_event.handler",
    ):
        props = function(handler)

        assert permissions(props) == {
            ("secretsmanager:GetSecretValue", "!Ref WebhookDatabaseSecret"),
            ("secretsmanager:GetSecretValue", "!Ref StripeWebhookSecret"),
            ("sqs:SendMessage", "!GetAtt WebhookQueue.Arn"),
        }
        variables = props["Environment"]["Variables"]
        assert variables["DATABASE_ROLE"] == "app_webhook"
        assert variables["STRIPE_LIVEMODE"] == {"Ref": "StripeLivemode"}
        (event,) = props["Events"].values()
        assert event["Properties"]["Auth"] == {"Authorizer": "NONE"}  # Stripe has no token


def test_the_processor_holds_exactly_what_its_code_uses() -> None:
    """Given the processor's section, then it reads the app_payments secret, the binding key
    (it binds the venue it settles) and Stripe's API key, relays its audit events, and is
    given exactly those variables; it deploys after the migrations."""
    resource = RESOURCES["WebhookProcessorFunction"]
    props = function("webhooks.process.handler")

    assert permissions(props) == {
        ("secretsmanager:GetSecretValue", "!Ref PaymentsDatabaseSecret"),
        ("secretsmanager:GetSecretValue", "!Ref BindingKeySecret"),
        ("secretsmanager:GetSecretValue", "!Ref StripeApiKeySecret"),
        ("sqs:SendMessage", "!GetAtt AuditQueue.Arn"),
    }
    assert set(props["Environment"]["Variables"]) == {
        "DATABASE_ROLE",
        "DATABASE_SECRET_ARN",
        "DATABASE_HOST",
        "BINDING_KEY_SECRET_ARN",
        "STRIPE_SECRET_ARN",
        "PLATFORM_FEE_BPS",
        "AUDIT_QUEUE_URL",
    }
    assert props["Environment"]["Variables"]["DATABASE_ROLE"] == "app_payments"
    assert resource["DependsOn"] == "DatabaseMigrations"


def test_the_processor_reports_partial_batch_failures_from_the_webhook_queue() -> None:
    (source,) = function("webhooks.process.handler")["Events"].values()
    queue = RESOURCES["WebhookQueue"]["Properties"]
    timeout = TEMPLATE["Globals"]["Function"]["Timeout"]

    assert source["Type"] == "SQS"
    assert source["Properties"]["Queue"] == {"GetAtt": "WebhookQueue.Arn"}
    assert source["Properties"]["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
    assert queue["FifoQueue"] is True
    assert queue["VisibilityTimeout"] >= 6 * timeout
    assert 1 < queue["RedrivePolicy"]["maxReceiveCount"] <= 10
    assert queue["RedrivePolicy"]["deadLetterTargetArn"] == {"GetAtt": "WebhookDeadLetterQueue.Arn"}
