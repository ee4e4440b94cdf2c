"""What a deploy creates, read from template.yaml as data (never grepped as text): the API's
authorizer, least-privilege policies, buckets, the database, queues, canary deploys,
network, secrets and alarms.

The rules are written for whatever the template holds, so resources added later (the audit
pipeline's bucket, queues and consumer) are held to them as soon as they appear; where the
template has none yet, a made-up resource shows that the rule would catch a bad one."""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Iterator, Mapping
from typing import Any

import pytest

from infra.functions_template import ALIAS, PRE_TRAFFIC_HOOK, alarm_name, function_name
from infra.template import load_template, template_routes
from tenancy.catalogue import discover
from tenancy.spec import Access, Need
from tests.conftest import ROOT

TEMPLATE = load_template()
RESOURCES: dict[str, Any] = TEMPLATE["Resources"]
PARAMETERS: dict[str, Any] = TEMPLATE["Parameters"]
DECLARED = discover(ROOT / "functions")
NO_VALUE = {"Ref": "AWS::NoValue"}

#: The routes anyone may call: the sign-in, password-reset and invitation pages and tokens,
#: the issuer's public documents, health and the disclosure file. Every other route goes
#: through the JWT authorizer (UserInfo too: its bearer token is an access token of this
#: issuer).
PUBLIC_ROUTES = {
    ("GET", "/health"),
    ("GET", "/health/ready"),
    ("GET", "/.well-known/jwks.json"),
    ("GET", "/.well-known/openid-configuration"),
    ("GET", "/.well-known/security.txt"),
    ("GET", "/oauth/authorize"),
    ("POST", "/oauth/authorize"),
    ("POST", "/oauth/authorize/continue"),
    ("POST", "/oauth/authorize/enrol"),
    ("POST", "/oauth/authorize/mfa"),
    ("POST", "/oauth/password-reset"),
    ("GET", "/oauth/password-reset/confirm"),
    ("POST", "/oauth/password-reset/confirm"),
    ("GET", "/oauth/invitation"),
    ("POST", "/oauth/invitation"),
    ("POST", "/oauth/token"),
    ("POST", "/oauth/revoke"),
}


def of_type(kind: str, resources: Mapping[str, Any] = RESOURCES) -> dict[str, Any]:
    return {name: r for name, r in resources.items() if r["Type"] == kind}


def listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def ref_name(value: Any) -> str | None:
    """The resource a ``!Ref X`` or ``!GetAtt X.Y`` names."""
    if isinstance(value, Mapping) and "Ref" in value:
        return str(value["Ref"])
    if isinstance(value, Mapping) and "GetAtt" in value:
        return str(value["GetAtt"]).split(".")[0]
    return None


def unwrap_if(value: Any) -> list[Any]:
    """The branches of ``!If [c, a, b]`` that are not AWS::NoValue (or the value itself)."""
    if isinstance(value, Mapping) and set(value) == {"If"}:
        return [branch for branch in value["If"][1:] if branch != NO_VALUE]
    return [value]


# --- policies -----------------------------------------------------------------------------------


def function_statements(props: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    """(effect, action, resource) of a SAM function's ``Policies``, SAM's secret-reading
    template included; a managed policy named by string yields ("Managed", name, None)."""
    for entry in props.get("Policies", []):
        for policy in unwrap_if(entry):
            if isinstance(policy, str):
                yield ("Managed", policy, None)
            elif "AWSSecretsManagerGetSecretValuePolicy" in policy:
                secret = policy["AWSSecretsManagerGetSecretValuePolicy"]["SecretArn"]
                yield ("Allow", "secretsmanager:GetSecretValue", secret)
            else:
                yield from document_statements(policy)


def document_statements(document: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for statement in listed(document.get("Statement", [])):
        for action in listed(statement.get("Action", [])):
            for resource in listed(statement.get("Resource", [])):
                for branch in unwrap_if(resource):
                    yield (statement.get("Effect", "Allow"), str(action), branch)


def role_statements(props: Mapping[str, Any]) -> Iterator[tuple[str, str, Any]]:
    for policy in props.get("Policies", []):
        yield from document_statements(policy["PolicyDocument"])
    for managed in props.get("ManagedPolicyArns", []):
        name = managed["Sub"] if isinstance(managed, Mapping) else managed
        yield ("Managed", str(name), None)


#: AWS's managed policies a role may carry: writing its own logs, ENIs in the VPC, traces.
EXECUTION_POLICIES = {
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
    "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole",
    "arn:${AWS::Partition}:iam::aws:policy/AWSXRayDaemonWriteAccess",
}


def policy_problems(resources: Mapping[str, Any]) -> list[str]:
    """Every grant of every function and role that is not scoped: a wildcard action, a
    resource that is ``*`` or a whole service, or a managed policy beyond execution."""
    grants: list[tuple[str, tuple[str, str, Any]]] = []
    for name, resource in resources.items():
        if resource["Type"] == "AWS::Serverless::Function":
            grants += [(name, g) for g in function_statements(resource["Properties"])]
        elif resource["Type"] == "AWS::IAM::Role":
            grants += [(name, g) for g in role_statements(resource["Properties"])]
    problems = []
    for name, (effect, action, target) in grants:
        if effect == "Managed":
            if action not in EXECUTION_POLICIES:
                problems.append(f"{name}: managed policy {action}")
            continue
        if "*" in action:
            problems.append(f"{name}: wildcard action {action}")
        text = target.get("Sub", "") if isinstance(target, Mapping) else str(target)
        if target == "*" or (isinstance(text, str) and text.endswith((":*", ":*:*"))):
            problems.append(f"{name}: {action} on every resource")
    return problems


def actions_by_function(resources: Mapping[str, Any] = RESOURCES) -> dict[str, set[str]]:
    """Each SAM function's handler → the actions its policies allow."""
    return {
        resource["Properties"]["Handler"]: {
            action for _, action, _ in function_statements(resource["Properties"])
        }
        for resource in of_type("AWS::Serverless::Function", resources).values()
    }


def test_every_route_has_the_jwt_authorizer_except_the_named_public_ones() -> None:
    """Given the API's routes in template.yaml, then exactly the named public ones opt out of
    the authorizer, and the authorizer every other route gets is the platform's JWT
    authorizer (issuer, audience, the Authorization header)."""
    unauthorized = {(r.method, r.path) for r in template_routes(TEMPLATE) if not r.authorized}
    (api,) = of_type("AWS::Serverless::HttpApi").values()
    auth = api["Properties"]["Auth"]
    jwt = auth["Authorizers"][auth["DefaultAuthorizer"]]

    assert unauthorized == PUBLIC_ROUTES
    assert jwt["IdentitySource"] == "$request.header.Authorization"
    assert jwt["JwtConfiguration"] == {
        "issuer": {"Ref": "TokenIssuer"},
        "audience": [{"Ref": "TokenAudience"}],
    }
    assert of_type("AWS::ApiGatewayV2::Route") == {}
    assert all(
        event["Properties"]["ApiId"] == {"Ref": "HttpApi"}
        for resource in of_type("AWS::Serverless::Function").values()
        for event in resource["Properties"].get("Events", {}).values()
        if event["Type"] == "HttpApi"
    )


def test_every_function_and_role_names_specific_resources() -> None:
    """Given every function's policies and every IAM role (the deploy-time functions', RDS
    Proxy's), then no action has a wildcard, no grant is on ``*`` or a whole service, and no
    managed policy beyond Lambda's execution, VPC and tracing ones is attached."""
    assert policy_problems(RESOURCES) == []


def test_the_policy_check_reports_wildcards() -> None:
    """Given a made-up function allowed s3:* on every bucket and a role with an admin
    policy, when checked, then each is reported."""
    made_up = {
        "Loose": {
            "Type": "AWS::Serverless::Function",
            "Properties": {
                "Policies": [
                    {"Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
                ]
            },
        },
        "Admin": {
            "Type": "AWS::IAM::Role",
            "Properties": {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/AdministratorAccess"]},
        },
    }

    assert policy_problems(made_up) == [
        "Loose: wildcard action s3:*",
        "Loose: s3:* on every resource",
        "Admin: managed policy arn:aws:iam::aws:policy/AdministratorAccess",
    ]


def test_only_the_token_function_signs_and_only_the_audit_consumer_writes_the_audit_bucket() -> (
    None
):
    """Given every function's policies, then kms:Sign belongs to the issuer's functions that
    declare SIGNING_KEY only (the token endpoint and the till PIN route), and s3 writes to the audit
    consumer's (functions/audit) only; no role outside the functions may do either."""
    actions = actions_by_function()
    signers = {handler for handler, allowed in actions.items() if "kms:Sign" in allowed}
    writers = {
        handler
        for handler, allowed in actions.items()
        if any(action.startswith("s3:Put") for action in allowed)
    }
    role_actions = {
        action
        for role in of_type("AWS::IAM::Role").values()
        for _, action, _ in role_statements(role["Properties"])
    }

    assert signers == {d.handler for d in DECLARED if Need.SIGNING_KEY in d.spec.needs}
    # The issuer's two token endpoints: the token grant, and a till's PIN (till sessions).
    assert signers == {"auth.issue_tokens.handler", "auth.open_till_session.handler"}
    assert all(handler.startswith("audit.") for handler in writers)
    assert "kms:Sign" not in role_actions
    assert not any(action.startswith("s3:Put") for action in role_actions)


def test_the_previous_signing_key_is_readable_only_during_a_rotation() -> None:
    """Given the functions that publish or sign with the token key, then each may also read
    the public half of PreviousSigningKeyId, but only under the condition that it is set."""
    condition = TEMPLATE["Conditions"]["RotatingSigningKeys"]
    previous = {
        "Sub": "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
        "${PreviousSigningKeyId}"
    }
    keyed = [d for d in DECLARED if {Need.SIGNING_KEY, Need.PUBLIC_KEYS} & d.spec.needs]

    assert condition == {"Not": [{"Equals": [{"Ref": "PreviousSigningKeyId"}, ""]}]}
    assert {d.handler for d in keyed} >= {"auth.get_jwks.handler", "auth.issue_tokens.handler"}
    for declared in keyed:
        policies = RESOURCES[function_name(declared)]["Properties"]["Policies"]
        conditional = [p["If"] for p in policies if isinstance(p, dict) and "If" in p]
        assert conditional == [
            [
                "RotatingSigningKeys",
                {
                    "Statement": [
                        {"Effect": "Allow", "Action": ["kms:GetPublicKey"], "Resource": previous}
                    ]
                },
                NO_VALUE,
            ]
        ], declared.handler


# --- buckets ------------------------------------------------------------------------------------


def bucket_problems(resources: Mapping[str, Any]) -> list[str]:
    """What each S3 bucket lacks of Object Lock, versioning, encryption, a TLS-only bucket
    policy and a complete public access block."""
    policies = {
        ref_name(policy["Properties"]["Bucket"]): policy["Properties"]["PolicyDocument"]
        for policy in of_type("AWS::S3::BucketPolicy", resources).values()
    }
    problems = []
    for name, bucket in of_type("AWS::S3::Bucket", resources).items():
        props = bucket.get("Properties", {})
        lock = props.get("ObjectLockConfiguration", {})
        if not (
            props.get("ObjectLockEnabled") is True
            and lock.get("ObjectLockEnabled") == "Enabled"
            and lock.get("Rule", {}).get("DefaultRetention")
        ):
            problems.append(f"{name}: no Object Lock with a default retention")
        if props.get("VersioningConfiguration", {}).get("Status") != "Enabled":
            problems.append(f"{name}: not versioned")
        rules = props.get("BucketEncryption", {}).get("ServerSideEncryptionConfiguration", [])
        if not rules:
            problems.append(f"{name}: not encrypted")
        block = props.get("PublicAccessBlockConfiguration", {})
        flags = (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        )
        if not all(block.get(flag) is True for flag in flags):
            problems.append(f"{name}: public access not fully blocked")
        denies_plain = any(
            statement.get("Effect") == "Deny"
            and statement.get("Condition", {}).get("Bool", {}).get("aws:SecureTransport")
            in (False, "false")
            for statement in listed(policies.get(name, {}).get("Statement", []))
        )
        if not denies_plain:
            problems.append(f"{name}: no policy refusing requests without TLS")
    return problems


def test_every_bucket_is_locked_versioned_encrypted_tls_only_and_private() -> None:
    """Given every S3 bucket of the template (the audit bucket, once the audit pipeline
    adds it), then each has Object Lock, versioning, encryption, a TLS-only policy and a
    complete public access block."""
    assert bucket_problems(RESOURCES) == []


def test_the_bucket_check_reports_what_a_bucket_lacks() -> None:
    """Given a made-up bare bucket, when checked, then every missing property is named."""
    made_up = {"Bare": {"Type": "AWS::S3::Bucket", "Properties": {}}}

    assert bucket_problems(made_up) == [
        "Bare: no Object Lock with a default retention",
        "Bare: not versioned",
        "Bare: not encrypted",
        "Bare: public access not fully blocked",
        "Bare: no policy refusing requests without TLS",
    ]


# --- the database -------------------------------------------------------------------------------


def number(value: Any) -> tuple[int, int]:
    """(lowest allowed, default) of a literal or a ``!Ref`` to a Number parameter."""
    name = ref_name(value)
    if name is None:
        return int(value), int(value)
    parameter = PARAMETERS[name]
    return int(parameter["MinValue"]), int(parameter["Default"])


def test_the_database_is_encrypted_backed_up_tls_only_protected_and_private() -> None:
    """Given both database choices (Aurora's cluster, RDS's instance), then each is
    encrypted with the stack's key, keeps at least 7 days of automated backups (point-in-time
    recovery), forces TLS through its parameter group, is deletion-protected and snapshotted
    on delete, manages its admin password in Secrets Manager, and no instance is public."""
    databases = {
        **of_type("AWS::RDS::DBCluster"),
        **{
            name: db
            for name, db in of_type("AWS::RDS::DBInstance").items()
            if "DBClusterIdentifier" not in db["Properties"]
        },
    }
    groups = {
        **of_type("AWS::RDS::DBClusterParameterGroup"),
        **of_type("AWS::RDS::DBParameterGroup"),
    }

    assert set(PARAMETERS["DatabaseEngine"]["AllowedValues"]) == {"aurora-postgresql", "postgres"}
    assert {db["Properties"]["Engine"] for db in databases.values()} == {
        "aurora-postgresql",
        "postgres",
    }
    for name, db in databases.items():
        props = db["Properties"]
        group = props.get("DBClusterParameterGroupName") or props.get("DBParameterGroupName")
        assert props["StorageEncrypted"] is True, name
        assert ref_name(props["KmsKeyId"]) == "DatabaseKey", name
        assert min(number(props["BackupRetentionPeriod"])) >= 7, name
        assert props["DeletionProtection"] is True, name
        assert db["DeletionPolicy"] == db["UpdateReplacePolicy"] == "Snapshot", name
        assert props["ManageMasterUserPassword"] is True, name
        assert groups[ref_name(group) or ""]["Properties"]["Parameters"]["rds.force_ssl"] == "1"
    for name, instance in of_type("AWS::RDS::DBInstance").items():
        assert instance["Properties"]["PubliclyAccessible"] is False, name
    assert RESOURCES["DatabaseKey"]["Properties"]["EnableKeyRotation"] is True


def test_functions_reach_the_database_only_through_rds_proxy_over_tls() -> None:
    """Given RDS Proxy, then it requires TLS, logs each role in with that role's own secret
    (no IAM shortcut), and every function with a database is told the proxy's endpoint."""
    (proxy,) = of_type("AWS::RDS::DBProxy").values()
    props = proxy["Properties"]
    functions = of_type("AWS::Serverless::Function")

    assert props["RequireTLS"] is True
    assert {ref_name(auth["SecretArn"]) for auth in props["Auth"]} == {
        "VenueDatabaseSecret",
        "IssuerDatabaseSecret",
        "AuditDatabaseSecret",
    }
    assert all(auth["AuthScheme"] == "SECRETS" for auth in props["Auth"])
    for declared in DECLARED:
        variables = functions[function_name(declared)]["Properties"].get("Environment", {})
        host = variables.get("Variables", {}).get("DATABASE_HOST")
        expected = None if declared.spec.database is None else {"GetAtt": "DatabaseProxy.Endpoint"}
        assert host == expected, declared.handler


# --- queues -------------------------------------------------------------------------------------


def queue_problems(template: Mapping[str, Any]) -> list[str]:
    """Every SQS consumer without a dead-letter queue behind its queue, without partial
    batch responses or with a visibility timeout under six times its function's timeout;
    every queue (not a DLQ itself) without redrive; every DLQ without a depth alarm."""
    resources = template["Resources"]
    queues = of_type("AWS::SQS::Queue", resources)
    default_timeout = template.get("Globals", {}).get("Function", {}).get("Timeout", 3)
    dead_letter = {
        ref_name(q["Properties"]["RedrivePolicy"]["deadLetterTargetArn"])
        for q in queues.values()
        if "RedrivePolicy" in q.get("Properties", {})
    }
    problems = []
    for name, function in of_type("AWS::Serverless::Function", resources).items():
        props = function["Properties"]
        for event in props.get("Events", {}).values():
            if event["Type"] != "SQS":
                continue
            queue_name = ref_name(event["Properties"]["Queue"])
            queue = queues.get(queue_name or "", {}).get("Properties", {})
            if "ReportBatchItemFailures" not in event["Properties"].get(
                "FunctionResponseTypes", []
            ):
                problems.append(f"{name}: no partial batch responses")
            if "deadLetterTargetArn" not in queue.get("RedrivePolicy", {}):
                problems.append(f"{name}: {queue_name} has no dead-letter queue")
            if queue.get("VisibilityTimeout", 30) < 6 * props.get("Timeout", default_timeout):
                problems.append(f"{name}: {queue_name}'s visibility timeout is under 6x its own")
    alarmed = {
        ref_name(dimension["Value"])
        for alarm in of_type("AWS::CloudWatch::Alarm", resources).values()
        if alarm["Properties"].get("MetricName") == "ApproximateNumberOfMessagesVisible"
        for dimension in alarm["Properties"].get("Dimensions", [])
    }
    for name, queue in queues.items():
        if name in dead_letter:
            if name not in alarmed:
                problems.append(f"{name}: a dead-letter queue without a depth alarm")
        elif "RedrivePolicy" not in queue.get("Properties", {}):
            problems.append(f"{name}: no redrive to a dead-letter queue")
    return problems


def test_every_sqs_consumer_has_a_dlq_and_partial_batch_responses() -> None:
    """Given every queue and every function fed by one (the audit consumer, once it
    exists), then each consumer reports partial batch failures, its queue redrives to a
    dead-letter queue and outwaits six of its timeouts, and every dead-letter queue is
    alarmed."""
    assert queue_problems(TEMPLATE) == []


def test_the_queue_check_reports_a_careless_consumer() -> None:
    """Given a made-up consumer of a queue with no dead-letter queue, a short visibility
    timeout and no partial batch responses, when checked, then all three are reported, and
    so is the queue's missing redrive."""
    template = copy.deepcopy(TEMPLATE)
    template["Resources"]["Bare"] = {"Type": "AWS::SQS::Queue", "Properties": {}}
    template["Resources"]["Consumer"] = {
        "Type": "AWS::Serverless::Function",
        "Properties": {
            "Timeout": 30,
            "Events": {"Q": {"Type": "SQS", "Properties": {"Queue": {"GetAtt": "Bare.Arn"}}}},
        },
    }

    assert queue_problems(template) == [
        "Consumer: no partial batch responses",
        "Consumer: Bare has no dead-letter queue",
        "Consumer: Bare's visibility timeout is under 6x its own",
        "Bare: no redrive to a dead-letter queue",
    ]


# --- canary deploys -----------------------------------------------------------------------------


def test_every_api_function_deploys_by_canary_with_alarms_and_the_pre_traffic_hook() -> None:
    """Given every function behind the API, then it publishes through its alias and deploys
    by canary or linear shifts (never all at once), rolled back by its own errors-and-
    throttles alarm on that alias and by the API's 5xx rate, behind the PreTraffic hook."""
    deployment_type = PARAMETERS["DeploymentType"]
    functions = of_type("AWS::Serverless::Function")
    api_functions = {
        name: props["Properties"]
        for name, props in functions.items()
        if any(e["Type"] == "HttpApi" for e in props["Properties"].get("Events", {}).values())
    }

    assert deployment_type["Default"].startswith("Canary")
    assert all(v.startswith(("Canary", "Linear")) for v in deployment_type["AllowedValues"])
    assert len(api_functions) == len(DECLARED)
    for declared in DECLARED:
        name = function_name(declared)
        props = api_functions[name]
        preference = props["DeploymentPreference"]
        alarms = [ref_name(alarm) for alarm in preference["Alarms"]]
        own = RESOURCES[alarm_name(declared)]["Properties"]
        watched = {
            (m["MetricStat"]["Metric"]["MetricName"], str(d["Value"]))
            for m in own["Metrics"]
            if "MetricStat" in m
            for d in m["MetricStat"]["Metric"]["Dimensions"]
            if d["Name"] == "Resource"
        }
        assert props["AutoPublishAlias"] == ALIAS, name
        assert preference["Type"] == {"Ref": "DeploymentType"}, name
        assert alarms == [alarm_name(declared), "ApiServerErrorRateAlarm"], name
        assert preference["Hooks"] == {"PreTraffic": {"Ref": PRE_TRAFFIC_HOOK}}, name
        assert watched == {
            ("Errors", str({"Sub": f"${{{name}}}:{ALIAS}"})),
            ("Throttles", str({"Sub": f"${{{name}}}:{ALIAS}"})),
        }, name
    rate = RESOURCES["ApiServerErrorRateAlarm"]["Properties"]
    assert {
        m["MetricStat"]["Metric"]["MetricName"] for m in rate["Metrics"] if "MetricStat" in m
    } == {
        "5xx",
        "Count",
    }


def test_the_pre_traffic_hook_asks_the_new_readiness_version_and_reports_to_codedeploy() -> None:
    """Given the hook function, then SAM's CodeDeploy role may invoke it (CodeDeployHook_
    name), it is told the readiness function's new version and may invoke only that, and it
    may report only to this application's deployment groups."""
    hook = RESOURCES[PRE_TRAFFIC_HOOK]["Properties"]
    role = RESOURCES[ref_name(hook["Role"]) or ""]["Properties"]
    grants = {(action, str(target)) for _, action, target in role_statements(role) if target}

    assert hook["FunctionName"]["Sub"].startswith("CodeDeployHook_")
    assert hook["Handler"] == "infra.deploy.pre_traffic.handler"
    assert hook["Environment"]["Variables"]["READINESS_FUNCTION"] == {
        "Ref": "GetReadinessFunction.Version"
    }
    assert grants == {
        ("lambda:InvokeFunction", str({"Ref": "GetReadinessFunction.Version"})),
        (
            "codedeploy:PutLifecycleEventHookExecutionStatus",
            str(
                {
                    "Sub": "arn:${AWS::Partition}:codedeploy:${AWS::Region}:${AWS::AccountId}:"
                    "deploymentgroup:${ServerlessDeploymentApplication}/*"
                }
            ),
        ),
    }


def test_migrations_run_before_any_function_with_a_database_deploys() -> None:
    """Given the migrations custom resource, then it is served by a function outside the VPC
    that may invoke only the migrations function, runs again when the migrations change, and
    every function with a database depends on it; the migrations function, in the private
    subnets, may read the admin secret, the three role secrets and the binding key, and
    nothing else."""
    migrations = RESOURCES["DatabaseMigrations"]
    trigger = RESOURCES["MigrationsTriggerFunction"]["Properties"]
    trigger_role = RESOURCES[ref_name(trigger["Role"]) or ""]["Properties"]
    function = RESOURCES["MigrationsFunction"]["Properties"]
    role = RESOURCES[ref_name(function["Role"]) or ""]["Properties"]
    read = {str(target) for _, _, target in role_statements(role) if target}

    assert ref_name(migrations["Properties"]["ServiceToken"]) == "MigrationsTriggerFunction"
    assert "VpcConfig" not in trigger
    assert [(a, str(t)) for _, a, t in role_statements(trigger_role) if t] == [
        ("lambda:InvokeFunction", str({"GetAtt": "MigrationsFunction.Arn"}))
    ]
    assert {ref_name(s) for s in function["VpcConfig"]["SubnetIds"]} == {
        "PrivateSubnetA",
        "PrivateSubnetB",
    }
    assert migrations["Properties"]["MigrationsChecksum"]
    assert migrations["Properties"]["Run"] == {"Ref": "MigrationsRun"}
    for declared in DECLARED:
        depends = RESOURCES[function_name(declared)].get("DependsOn")
        assert depends == ("DatabaseMigrations" if declared.spec.database else None)
    assert read == {
        str({"GetAtt": "DatabaseCluster.MasterUserSecret.SecretArn"}),
        str({"GetAtt": "DatabaseInstance.MasterUserSecret.SecretArn"}),
        *(
            str({"Ref": secret})
            for secret in (
                "VenueDatabaseSecret",
                "IssuerDatabaseSecret",
                "AuditDatabaseSecret",
                "BindingKeySecret",
            )
        ),
    }


# --- network, secrets, API edge -----------------------------------------------------------------


def test_functions_run_in_private_subnets_with_the_endpoints_they_need() -> None:
    """Given the VPC, then the functions with a database run in the private subnets only,
    the interface endpoints for Secrets Manager, KMS, SQS and SNS and the S3 gateway exist,
    and only functions that call the internet may leave through the NAT gateway: the breach
    check, the password-reset mail (SES), and the gate's fetch of the issuer's JWKS from the
    API's public address."""
    endpoints = {
        props["Properties"]["ServiceName"]["Sub"].rsplit(".", 1)[1]: props["Properties"][
            "VpcEndpointType"
        ]
        for props in of_type("AWS::EC2::VPCEndpoint").values()
    }
    internet_groups = {
        name
        for name, group in of_type("AWS::EC2::SecurityGroup").items()
        if any(
            rule.get("CidrIp") == "0.0.0.0/0"
            for rule in group["Properties"].get("SecurityGroupEgress", [])
        )
    }
    private = {"PrivateSubnetA", "PrivateSubnetB"}

    assert endpoints == {
        "secretsmanager": "Interface",
        "kms": "Interface",
        "sqs": "Interface",
        "sns": "Interface",
        "s3": "Gateway",
    }
    assert of_type("AWS::EC2::NatGateway")
    for name, resource in {
        **of_type("AWS::Serverless::Function"),
        **of_type("AWS::Lambda::Function"),
    }.items():
        vpc = resource["Properties"].get("VpcConfig")
        if vpc is None:
            continue
        groups = {ref_name(group) for group in vpc["SecurityGroupIds"]}
        handler = resource["Properties"]["Handler"]
        calls_out = any(
            d.handler == handler
            and (
                # HTTPS out through the NAT: the breach corpus, SES's API, the JWKS.
                {Need.BREACH_CORPUS, Need.MAIL} & d.spec.needs or d.spec.access is not Access.PUBLIC
            )
            for d in DECLARED
        )
        assert {ref_name(subnet) for subnet in vpc["SubnetIds"]} == private, name
        assert bool(groups & internet_groups) == calls_out, name
    for subnet in private:
        assert RESOURCES[subnet]["Properties"]["MapPublicIpOnLaunch"] is False


def test_the_stack_creates_every_secret_the_functions_and_deploys_read() -> None:
    """Given the secrets, then there is one login per database role (generated password),
    the binding key, the app keys, the identity salt and the PIN pepper (made by the
    key-material resource),
    Stripe's keys and webhook secrets, and Sentry's DSN."""
    secrets = of_type("AWS::SecretsManager::Secret")
    key_material = RESOURCES["KeyMaterial"]["Properties"]

    assert set(secrets) == {
        "VenueDatabaseSecret",
        "IssuerDatabaseSecret",
        "AuditDatabaseSecret",
        "BindingKeySecret",
        "AppKeysSecret",
        "IdentitySaltSecret",
        "PinPepperSecret",
        "StripeApiKeySecret",
        "StripeWebhookSecret",
        "SentryDsnSecret",
    }
    for role in ("Venue", "Issuer", "Audit"):
        generated = secrets[f"{role}DatabaseSecret"]["Properties"]["GenerateSecretString"]
        assert generated["GenerateStringKey"] == "password"
        assert generated["PasswordLength"] >= 32
    assert {ref_name(v) for k, v in key_material.items() if k.endswith("SecretArn")} == {
        "BindingKeySecret",
        "AppKeysSecret",
        "IdentitySaltSecret",
        "PinPepperSecret",
    }


def test_the_api_edge_tls_cors_and_throttles() -> None:
    """Given the API, then its optional custom domain exists only when a domain is set and
    speaks TLS 1.2 or later, CORS admits the SPA's origin alone, and every route is
    throttled, sign-in and password reset more tightly."""
    domain = RESOURCES["ApiDomain"]
    (api,) = of_type("AWS::Serverless::HttpApi").values()
    props = api["Properties"]
    sign_in = props["RouteSettings"]["POST /oauth/authorize"]

    assert domain["Condition"] == "HasDomain"
    assert {"Not": [{"Equals": [{"Ref": "DomainName"}, ""]}]} in TEMPLATE["Conditions"][
        "HasDomain"
    ]["And"]
    assert [c["SecurityPolicy"] for c in domain["Properties"]["DomainNameConfigurations"]] == [
        "TLS_1_2"
    ]
    assert props["CorsConfiguration"]["AllowOrigins"] == [{"Ref": "SpaOrigin"}]
    assert props["DefaultRouteSettings"]["ThrottlingRateLimit"] > 0
    assert sign_in["ThrottlingRateLimit"] < props["DefaultRouteSettings"]["ThrottlingRateLimit"]
    for tight in (
        "POST /oauth/authorize/mfa",
        "POST /oauth/authorize/enrol",
        "POST /oauth/password-reset",
        "POST /oauth/password-reset/confirm",
    ):
        assert props["RouteSettings"][tight] == sign_in, tight


@pytest.mark.parametrize(
    ("alarm", "metric"),
    [
        ("ApiServerErrorRateAlarm", "5xx"),
        ("AuditDeadLetterQueueDepthAlarm", "ApproximateNumberOfMessagesVisible"),
        ("AuditLagAlarm", "ApproximateAgeOfOldestMessage"),
    ],
)
def test_the_operational_alarms_and_the_dashboard_exist(alarm: str, metric: str) -> None:
    """Given the alarms, then the API's 5xx rate, the audit dead-letter queue's depth and the
    audit lag are watched, and the dashboard's body is valid JSON once substituted."""
    props = RESOURCES[alarm]["Properties"]
    metrics = {props.get("MetricName")} | {
        m["MetricStat"]["Metric"]["MetricName"]
        for m in props.get("Metrics", [])
        if "MetricStat" in m
    }

    assert metric in metrics
    (dashboard,) = of_type("AWS::CloudWatch::Dashboard").values()
    body = re.sub(r"\$\{[^}]+\}", "x", dashboard["Properties"]["DashboardBody"]["Sub"])
    assert len(json.loads(body)["widgets"]) >= 6
