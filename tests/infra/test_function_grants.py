"""template.yaml gives each function exactly what its route's declaration needs: its
database role's secret, the binding key when gated, and its ``needs``; nothing else."""

from __future__ import annotations

import copy
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from auth.settings import IssuerSettings
from customers.config import DinerSettings
from infra.functions_template import TEMPLATE as TEMPLATE_PATH
from infra.functions_template import check, render
from infra.template import load_template
from tenancy import DbRole, Need, NoBody, NoQuery, Request, public_route
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.payments import PaymentSettings
from tenancy.settings import Settings
from tests.conftest import ROOT

TEMPLATE = load_template()
DECLARED = discover(ROOT / "functions")
SECRET = "secretsmanager:GetSecretValue"


def function(template: dict[str, Any], handler: str) -> dict[str, Any]:
    """The properties of the function that runs ``handler``."""
    props: dict[str, Any]
    (props,) = [
        resource["Properties"]
        for resource in template["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        and resource["Properties"]["Handler"] == handler
    ]
    return props


def test_the_committed_template_is_what_the_declarations_generate() -> None:
    """Given the route declarations, when `make template` would write the functions and
    their parameters, then template.yaml already says exactly that."""
    committed = TEMPLATE_PATH.read_text()

    assert committed == render(committed, DECLARED), "template.yaml is stale: run `make template`"


def test_each_function_is_granted_exactly_what_its_route_needs() -> None:
    """Given template.yaml and the declarations, when they are compared, then no function
    misses a permission or a variable it needs, and none holds one it does not."""
    assert check(TEMPLATE, DECLARED) == []


def test_the_check_reports_a_missing_and_an_extra_permission() -> None:
    """Given a copy of the template where the MFA step may not read the app keys and the
    JWKS function may sign tokens, when it is checked, then both are reported, and nothing
    else is."""
    broken = copy.deepcopy(TEMPLATE)
    mfa = function(broken, "auth.answer_second_factor.handler")
    app_keys = {"AWSSecretsManagerGetSecretValuePolicy": {"SecretArn": {"Ref": "AppKeysSecret"}}}
    mfa["Policies"].remove(app_keys)
    jwks = function(broken, "auth.get_jwks.handler")
    jwks["Policies"][0]["Statement"][0]["Action"] = ["kms:Sign", "kms:GetPublicKey"]

    assert check(broken, DECLARED) == [
        "AnswerSecondFactorFunction: missing secretsmanager:GetSecretValue on !Ref AppKeysSecret",
        "GetJwksFunction: extra kms:Sign on !GetAtt TokenSigningKey.Arn",
    ]


def test_the_check_reports_variables_given_to_all_and_policies_it_cannot_read() -> None:
    """Given a copy of the template where every function is given the app-keys secret,
    the JWKS function lost its key ids and a venue function holds a broad managed policy,
    when it is checked, then all three are reported."""
    broken = copy.deepcopy(TEMPLATE)
    shared = broken["Globals"]["Function"]["Environment"]["Variables"]
    shared["APP_KEYS_SECRET_ARN"] = {"Ref": "AppKeysSecret"}
    del function(broken, "auth.get_jwks.handler")["Environment"]
    function(broken, "venues.get_venue.handler")["Policies"].append("AmazonRDSFullAccess")

    assert check(broken, DECLARED) == [
        "Globals: every function is given APP_KEYS_SECRET_ARN",
        "GetJwksFunction: missing variable TOKEN_SIGNING_KEY_IDS",
        "GetVenueFunction: a policy this check cannot read: AmazonRDSFullAccess",
    ]


@dataclass(frozen=True)
class Expected:
    """What a function is given, written out by hand from what its code calls."""

    handler: str
    #: (action, resource) with resources named as in the template.
    permissions: frozenset[tuple[str, str]]
    variables: frozenset[str]
    in_vpc: bool


def _permissions(policies: list[Any]) -> frozenset[tuple[str, str]]:
    found: set[tuple[str, str]] = set()
    for policy in policies:
        if "AWSSecretsManagerGetSecretValuePolicy" in policy:
            found.add((SECRET, policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]["Ref"]))
        for statement in policy.get("Statement", []):
            found |= {(action, statement["Resource"]["GetAtt"]) for action in statement["Action"]}
    return frozenset(found)


DB = frozenset({"DATABASE_ROLE", "DATABASE_SECRET_ARN", "DATABASE_HOST"})
#: The relay: a function whose role writes audit events sends them to the queue after commit.
RELAY = ("sqs:SendMessage", "AuditQueue.Arn")
EXPECTED = [
    Expected("health.get_health.handler", frozenset(), frozenset(), in_vpc=False),
    Expected(
        "health.get_readiness.handler",
        frozenset({(SECRET, "VenueDatabaseSecret"), ("kms:GetPublicKey", "TokenSigningKey.Arn")}),
        DB | {"TOKEN_SIGNING_KEY_IDS"},
        in_vpc=True,
    ),
    Expected(
        "venues.get_venue.handler",
        frozenset({(SECRET, "VenueDatabaseSecret"), (SECRET, "BindingKeySecret"), RELAY}),
        DB | {"BINDING_KEY_SECRET_ARN", "AUDIT_QUEUE_URL"},
        in_vpc=True,
    ),
    Expected(
        "auth.get_jwks.handler",
        frozenset({("kms:GetPublicKey", "TokenSigningKey.Arn")}),
        frozenset({"TOKEN_SIGNING_KEY_IDS"}),
        in_vpc=False,
    ),
    Expected("auth.get_openid_configuration.handler", frozenset(), frozenset(), in_vpc=False),
    Expected(
        "auth.issue_tokens.handler",
        frozenset(
            {
                (SECRET, "IssuerDatabaseSecret"),
                ("kms:Sign", "TokenSigningKey.Arn"),
                ("kms:GetPublicKey", "TokenSigningKey.Arn"),
                RELAY,
            }
        ),
        DB | {"TOKEN_SIGNING_KEY_IDS", "AUDIT_QUEUE_URL"},
        in_vpc=True,
    ),
    Expected(
        "auth.enrol_totp.handler",
        frozenset(
            {
                (SECRET, "IssuerDatabaseSecret"),
                (SECRET, "BindingKeySecret"),
                (SECRET, "AppKeysSecret"),
                RELAY,
            }
        ),
        DB | {"BINDING_KEY_SECRET_ARN", "APP_KEYS_SECRET_ARN", "AUDIT_QUEUE_URL"},
        in_vpc=True,
    ),
]


@pytest.mark.parametrize("expected", EXPECTED, ids=lambda e: e.handler)
def test_functions_hold_what_their_code_uses(expected: Expected) -> None:
    """Given a function whose needs are written out here by hand (the JWKS reads public
    keys only, liveness and the discovery document nothing, a venue route its own role's
    secret and the binding key, readiness its role's secret and the signing key's public
    half, and every function whose role writes audit events the audit queue, to relay
    them), when its section of template.yaml is read, then it holds exactly that."""
    props = function(TEMPLATE, expected.handler)

    assert _permissions(props.get("Policies", [])) == expected.permissions
    assert set(props.get("Environment", {}).get("Variables", {})) == expected.variables
    assert ("VpcConfig" in props) is expected.in_vpc
    assert "VpcConfig" not in TEMPLATE["Globals"]["Function"]


def test_every_variable_a_function_is_given_is_a_setting_its_code_reads() -> None:
    """Given the variables template.yaml sets, when compared with the settings the gate,
    the issuer, the diners' keys and the payments collaborators read, then each is one of
    them (a misspelt name would be ignored)."""
    read = {
        name.upper()
        for name in Settings.model_fields
        | IssuerSettings.model_fields
        | DinerSettings.model_fields
        | PaymentSettings.model_fields
    }
    given = {
        name
        for resource in TEMPLATE["Resources"].values()
        if resource["Type"] == "AWS::Serverless::Function"
        for name in resource["Properties"].get("Environment", {}).get("Variables", {})
    }

    assert given - read == set()


def test_a_template_without_the_markers_is_refused() -> None:
    """Given a template that lost the markers of the generated parts, when it is written,
    then the writer refuses, naming the markers it needs."""
    with pytest.raises(ValueError, match="needs one pair of markers for the parameters"):
        render("Resources: {}\n", DECLARED)


def test_the_needs_no_route_uses_yet_make_a_valid_template(tmp_path: Path) -> None:
    """Given one more route, connecting as app_audit and needing the audit queue, the audit
    bucket and the alerts topic, when the template is written with it, then cfn-lint accepts
    the template and the check finds that function given exactly those."""

    def body(request: Request[NoQuery, NoBody]) -> None:
        return None

    publisher = public_route(
        "POST",
        "/audit/publish",
        summary="example",
        database=DbRole.AUDIT,
        needs={Need.AUDIT_QUEUE, Need.AUDIT_BUCKET, Need.ALERTS},
    )(body)
    declared = [*DECLARED, DeclaredRoute("audit.publish.handler", publisher)]
    written = tmp_path / "template.yaml"
    written.write_text(render(TEMPLATE_PATH.read_text(), declared))

    lint = subprocess.run(
        [str(Path(sys.executable).with_name("cfn-lint")), str(written)],
        capture_output=True,
        text=True,
        check=False,
    )
    template = load_template(written)
    props = function(template, "audit.publish.handler")

    assert lint.returncode == 0, lint.stdout + lint.stderr
    assert check(template, declared) == []
    assert set(props["Environment"]["Variables"]) == {
        "DATABASE_ROLE",
        "DATABASE_SECRET_ARN",
        "DATABASE_HOST",
        "AUDIT_QUEUE_URL",
        "AUDIT_BUCKET_NAME",
        "ALERTS_TOPIC_ARN",
    }
    assert {"AuditBucketName", "AlertsTopicArn"} <= set(template["Parameters"])
    assert template["Resources"]["AuditDatabaseSecret"]["Type"] == "AWS::SecretsManager::Secret"
