"""The functions that run during a deploy: the PreTraffic hook that lets a canary take
traffic only when the new version is ready, the custom resource that applies migrations,
and the one that makes the stack's key material.

moto (5.2.5) has no ``put_lifecycle_event_hook_execution_status``: the hook is given a real
boto3 CodeDeploy client under botocore's Stubber, which checks each call against the
service's own API model (names, types, the allowed status values) and answers it; Lambda's
invoke is a fake that runs the real readiness handler in this process."""

from __future__ import annotations

import base64
import dataclasses
import io
import json
from collections.abc import Iterator, Mapping
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber
from moto import mock_aws
from psycopg.conninfo import conninfo_to_dict

from auth.secretbox import SecretBox
from health import get_readiness
from infra.deploy import key_material, migrations, pre_traffic
from infra.deploy.custom_resource import run
from infra.local import postgres
from infra.migrate import MIGRATIONS
from tenancy.bindings import BindingKey
from tenancy.db import SingleConnection
from tenancy.runtime import RDS_CA_BUNDLE, Runtime
from tenancy.spec import DbRole

REGION = "eu-west-1"
HOOK_EVENT = {"DeploymentId": "d-ABCDEF123", "LifecycleEventHookExecutionId": "eyJ-hook-1"}
READINESS = "arn:aws:lambda:eu-west-1:123456789012:function:stack-GetReadiness:7"


class InProcessLambda:
    """Lambda's invoke, running the readiness handler here against ``runtime``."""

    def __init__(self, runtime: Runtime) -> None:
        self.runtime = runtime
        self.invoked: list[str] = []

    def invoke(self, *, FunctionName: str, InvocationType: str, Payload: bytes) -> dict[str, Any]:  # noqa: N803
        self.invoked.append(FunctionName)
        response = get_readiness.handler.invoke(json.loads(Payload), self.runtime)
        return {"StatusCode": 200, "Payload": io.BytesIO(json.dumps(response).encode())}


@pytest.fixture
def codedeploy() -> Iterator[tuple[Any, Stubber]]:
    client = boto3.client(
        "codedeploy", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    with Stubber(client) as stubber:
        yield client, stubber
        stubber.assert_no_pending_responses()


@pytest.fixture(scope="module")
def stopped_database(tmp_path_factory: pytest.TempPathFactory) -> str:
    """The venue role's connection to a migrated database whose server was then stopped."""
    import pgserver

    server = pgserver.get_server(tmp_path_factory.mktemp("stopped"), cleanup_mode="delete")
    database = postgres.prepare(str(server.get_uri()), "venue_stopped", fresh=True)
    server.cleanup()
    return database.venue_url


def expect_status(stubber: Stubber, status: str) -> None:
    stubber.add_response(
        "put_lifecycle_event_hook_execution_status",
        {"lifecycleEventHookExecutionId": HOOK_EVENT["LifecycleEventHookExecutionId"]},
        {
            "deploymentId": HOOK_EVENT["DeploymentId"],
            "lifecycleEventHookExecutionId": HOOK_EVENT["LifecycleEventHookExecutionId"],
            "status": status,
        },
    )


def test_the_hook_lets_traffic_shift_when_the_new_version_is_ready(
    runtime: Runtime, codedeploy: tuple[Any, Stubber]
) -> None:
    """Given the new version of the readiness function reaching the migrated database, when
    CodeDeploy calls the PreTraffic hook, then the hook invokes that version and reports
    Succeeded for this deployment's lifecycle event."""
    client, stubber = codedeploy
    expect_status(stubber, "Succeeded")
    lambda_client = InProcessLambda(runtime)

    status = pre_traffic.handler(
        HOOK_EVENT,
        lambda_client=lambda_client,
        codedeploy=client,
        environ={"READINESS_FUNCTION": READINESS},
    )

    assert status == "Succeeded"
    assert lambda_client.invoked == [READINESS]


def test_the_hook_fails_the_deployment_when_the_database_is_stopped(
    runtime: Runtime, stopped_database: str, codedeploy: tuple[Any, Stubber]
) -> None:
    """Given the new version's database server stopped, when CodeDeploy calls the PreTraffic
    hook, then readiness cannot answer 200 and the hook reports Failed, which stops the
    deployment and rolls the alias back."""
    client, stubber = codedeploy
    expect_status(stubber, "Failed")
    stopped = dataclasses.replace(
        runtime, databases={DbRole.VENUE: SingleConnection(lambda: stopped_database)}
    )

    status = pre_traffic.handler(
        HOOK_EVENT,
        lambda_client=InProcessLambda(stopped),
        codedeploy=client,
        environ={"READINESS_FUNCTION": READINESS},
    )

    assert status == "Failed"


def test_the_hook_fails_the_deployment_when_readiness_cannot_be_invoked(
    codedeploy: tuple[Any, Stubber],
) -> None:
    """Given a readiness function that cannot be invoked at all, when the hook runs, then it
    reports Failed rather than raising (an unanswered hook would only time out)."""

    class Unreachable:
        def invoke(self, **kwargs: Any) -> dict[str, Any]:
            raise ConnectionError("no route to Lambda")

    client, stubber = codedeploy
    expect_status(stubber, "Failed")

    status = pre_traffic.handler(
        HOOK_EVENT,
        lambda_client=Unreachable(),
        codedeploy=client,
        environ={"READINESS_FUNCTION": READINESS},
    )

    assert status == "Failed"


# --- custom resources ----------------------------------------------------------------------

STACK_EVENT = {
    "StackId": "arn:aws:cloudformation:eu-west-1:123456789012:stack/venue/1",
    "RequestId": "r-1",
    "LogicalResourceId": "DatabaseMigrations",
    "ResponseURL": "https://cloudformation-custom-resource-response.example/put",
    "ResourceProperties": {"ServiceToken": "arn:fn", "Version": "3"},
}


def responses() -> tuple[list[Mapping[str, Any]], Any]:
    sent: list[Mapping[str, Any]] = []
    return sent, lambda url, document: sent.append(document)


def test_a_custom_resource_reports_success_with_its_data_and_failure_with_its_reason() -> None:
    """Given a Create that works and an Update that fails, when each runs, then
    CloudFormation is told SUCCESS with the work's data, then FAILED with the error (so the
    stack update fails and rolls back instead of waiting for a timeout)."""
    sent, respond = responses()

    def broken(properties: Mapping[str, Any]) -> dict[str, str]:
        raise RuntimeError("0005_x.sql changed after it was applied")

    run({**STACK_EVENT, "RequestType": "Create"}, lambda p: {"Applied": "0001"}, respond=respond)
    run({**STACK_EVENT, "RequestType": "Update"}, broken, respond=respond)

    assert [(d["Status"], d.get("Data"), d.get("Reason")) for d in sent] == [
        ("SUCCESS", {"Applied": "0001"}, None),
        ("FAILED", None, "RuntimeError: 0005_x.sql changed after it was applied"),
    ]
    assert {d["RequestId"] for d in sent} == {"r-1"}


def test_deleting_the_migrations_resource_changes_nothing() -> None:
    """Given the stack being deleted, when the migrations resource gets its Delete, then no
    migration runs and CloudFormation is told SUCCESS (the database keeps its data)."""
    sent, respond = responses()
    ran: list[Any] = []

    def work(properties: Mapping[str, Any]) -> dict[str, str]:
        ran.append(properties)
        return {}

    run(
        {**STACK_EVENT, "RequestType": "Delete", "PhysicalResourceId": "m"},
        work,
        respond=respond,
    )

    assert ran == []
    assert sent[0]["Status"] == "SUCCESS"
    assert sent[0]["PhysicalResourceId"] == "m"


def test_migrations_connect_as_the_admin_over_verified_tls_with_the_roles_passwords() -> None:
    """Given the admin secret (RDS-managed: username and password only), the role secrets
    and the binding key, when the migrations resource applies, then it connects to
    the database's endpoint with verify-full against the RDS CA bundle, sets each login
    role's password from its secret and installs the binding key."""
    secrets = {
        "admin": json.dumps({"username": "postgres", "password": "admin-pw"}),
        "venue": json.dumps({"username": "app_venue", "password": "v-pw"}),
        "issuer": json.dumps({"username": "app_issuer", "password": "i-pw"}),
        "audit": json.dumps({"username": "app_audit", "password": "a-pw"}),
        "webhook": json.dumps({"username": "app_webhook", "password": "w-pw"}),
        "payments": json.dumps({"username": "app_payments", "password": "p-pw"}),
        "binding": "k20260101:" + base64.b64encode(b"k" * 32).decode(),
    }
    env = {
        "ADMIN_SECRET_ARN": "admin",
        "VENUE_DATABASE_SECRET_ARN": "venue",
        "ISSUER_DATABASE_SECRET_ARN": "issuer",
        "AUDIT_DATABASE_SECRET_ARN": "audit",
        "WEBHOOK_DATABASE_SECRET_ARN": "webhook",
        "PAYMENTS_DATABASE_SECRET_ARN": "payments",
        "BINDING_KEY_SECRET_ARN": "binding",
        "DATABASE_HOST": "venue.cluster-abc.eu-west-1.rds.amazonaws.com",
        "DATABASE_NAME": "venue",
    }
    calls: list[tuple[str, dict[str, Any]]] = []

    def fake_migrate(conninfo: str, **kwargs: Any) -> list[str]:
        calls.append((conninfo, kwargs))
        return ["0004_issuer_sessions.sql"]

    data = migrations.apply(env, secrets.__getitem__, fake_migrate)

    ((conninfo, kwargs),) = calls
    params = conninfo_to_dict(conninfo)
    assert params["host"] == env["DATABASE_HOST"]
    assert (params["user"], params["password"], params["dbname"]) == (
        "postgres",
        "admin-pw",
        "venue",
    )
    assert (params["sslmode"], params["sslrootcert"]) == ("verify-full", str(RDS_CA_BUNDLE))
    assert kwargs == {
        "passwords": {
            "app_venue": "v-pw",
            "app_issuer": "i-pw",
            "app_audit": "a-pw",
            "app_webhook": "w-pw",
            "app_payments": "p-pw",
        },
        "binding_key": secrets["binding"],
    }
    assert data["Applied"] == "0004_issuer_sessions.sql"
    assert data["SchemaVersion"] == max(p.name for p in MIGRATIONS.glob("*.sql"))


def test_key_material_is_made_once_in_the_formats_the_functions_read() -> None:
    """Given the binding-key, app-keys and identity-salt secrets holding the template's
    placeholder, and the salt already set by hand, when the key-material resource runs twice,
    then the first run fills the two placeholders with keys the gate and the secret box
    accept, the hand-set salt is kept, and the second run changes nothing."""
    with mock_aws():
        client = boto3.client("secretsmanager", region_name=REGION)
        arns = {
            name: client.create_secret(Name=name, SecretString=key_material.PLACEHOLDER)["ARN"]
            for name in ("binding", "app-keys", "salt")
        }
        client.put_secret_value(SecretId=arns["salt"], SecretString="set-by-hand")
        properties = {
            "BindingKeySecretArn": arns["binding"],
            "AppKeysSecretArn": arns["app-keys"],
            "IdentitySaltSecretArn": arns["salt"],
        }

        first = key_material.fill(properties, client)
        values = {k: client.get_secret_value(SecretId=a)["SecretString"] for k, a in arns.items()}
        second = key_material.fill(properties, client)
        again = {k: client.get_secret_value(SecretId=a)["SecretString"] for k, a in arns.items()}

    assert first == {"Made": "BindingKeySecretArn,AppKeysSecretArn"}
    assert len(BindingKey.from_setting(values["binding"]).secret) == 32
    assert SecretBox.from_setting(values["app-keys"])
    assert values["salt"] == "set-by-hand"
    assert second == {"Made": ""}
    assert again == values


class MigrationsInVpc:
    """Lambda's invoke of the migrations function: its answer, or its error as Lambda
    reports one (FunctionError and the error in the payload)."""

    def __init__(self, answer: dict[str, Any], *, failed: bool = False) -> None:
        self.answer, self.failed = answer, failed
        self.invoked: list[str] = []

    def invoke(self, *, FunctionName: str, InvocationType: str) -> dict[str, Any]:  # noqa: N803
        self.invoked.append(FunctionName)
        reply: dict[str, Any] = {
            "StatusCode": 200,
            "Payload": io.BytesIO(json.dumps(self.answer).encode()),
        }
        if self.failed:
            reply["FunctionError"] = "Unhandled"
        return reply


def test_the_migrations_resource_answers_with_what_the_vpc_function_applied(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the migrations function (in the VPC) applying 0005, when CloudFormation sends
    the custom resource's Update, then the resource invokes it and answers SUCCESS with what
    was applied; given it failing, the resource answers FAILED with its error."""
    monkeypatch.setenv("APPLY_FUNCTION", "stack-MigrationsFunction-1")
    sent, respond = responses()
    applied = MigrationsInVpc({"Applied": "0005_x.sql", "SchemaVersion": "0005_x.sql"})
    broken = MigrationsInVpc(
        {"errorMessage": "0004_issuer_sessions.sql changed after it was applied"}, failed=True
    )

    migrations.handler(
        {**STACK_EVENT, "RequestType": "Update"}, lambda_client=applied, respond=respond
    )
    migrations.handler(
        {**STACK_EVENT, "RequestType": "Update"}, lambda_client=broken, respond=respond
    )

    assert applied.invoked == ["stack-MigrationsFunction-1"]
    assert [(d["Status"], d.get("Data"), d.get("Reason")) for d in sent] == [
        ("SUCCESS", {"Applied": "0005_x.sql", "SchemaVersion": "0005_x.sql"}, None),
        (
            "FAILED",
            None,
            "RuntimeError: the migrations failed:"
            " 0004_issuer_sessions.sql changed after it was applied",
        ),
    ]
