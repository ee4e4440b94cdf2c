"""The functions' part of template.yaml, written from the route declarations: `make template`.

A route's declaration owns its function's deploy. For each declared route this writes one
``AWS::Serverless::Function``: its handler, its HTTP API event (no authorizer for public
routes) and exactly the grants and environment its declaration implies:

- ``database``: that role's connection secret, ``DATABASE_ROLE`` and ``DATABASE_SECRET_ARN``,
  and the VPC (a function without a database runs outside it);
- access ``USER`` or ``VENUE`` (gated, bound): the binding-key secret,
  ``BINDING_KEY_SECRET_ARN`` (a ``DEVICE`` route binds nothing);
- each of its ``needs`` (``tenancy.Need``): what ``NEEDS`` below lists;
- the audit queue (``Need.AUDIT_QUEUE``) when its role may write ``audit_outbox`` as the
  route runs (``relays_audit_events``): the gate relays the request's events after commit.

It also writes the parameters those grants name, so a parameter exists only while some
function uses it. Both parts sit between markers in template.yaml; everything else there is
written by hand. ``check`` compares a template's functions with the declarations.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tenancy.catalogue import DeclaredRoute, discover
from tenancy.schema import SCHEMA_VERSION
from tenancy.spec import Access, DbRole, Need, RouteSpec

__all__ = [
    "ALIAS",
    "NEEDS",
    "PRE_TRAFFIC_HOOK",
    "TEMPLATE",
    "Grant",
    "Parameter",
    "Secret",
    "Statement",
    "alarm_name",
    "check",
    "function_name",
    "grants_of",
    "relays_audit_events",
    "render",
    "show",
]

ROOT = Path(__file__).resolve().parents[1]
TEMPLATE = ROOT / "template.yaml"

#: A value in the template: plain, or an intrinsic as the template reader reads it
#: (``!Ref X`` is ``{"Ref": "X"}``, ``!GetAtt A.B`` is ``{"GetAtt": "A.B"}``).
Expr = str | dict[str, Any]


def ref(name: str) -> dict[str, Any]:
    return {"Ref": name}


def get_att(name: str) -> dict[str, Any]:
    return {"GetAtt": name}


@dataclass(frozen=True)
class Parameter:
    name: str
    description: str
    default: str | None = None
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class Secret:
    """A Secrets Manager secret the hand-written part of template.yaml creates; ``!Ref`` of
    it is its ARN."""

    name: str
    description: str


@dataclass(frozen=True)
class Statement:
    """``Allow`` ``actions`` on ``resource``; with ``condition``, only while that template
    condition holds (the statement is written inside ``!If``)."""

    actions: tuple[str, ...]
    resource: Expr
    condition: str | None = None


@dataclass(frozen=True)
class Grant:
    """What a function is given for one of its needs."""

    #: A Secrets Manager secret it reads (SAM's AWSSecretsManagerGetSecretValuePolicy).
    secret: Secret | None = None
    statements: tuple[Statement, ...] = ()
    environment: Mapping[str, Expr] = field(default_factory=dict)
    #: Parameters it names.
    parameters: tuple[Parameter, ...] = ()
    #: Security groups a function in the VPC joins for this need, besides its own.
    security_groups: tuple[str, ...] = ()


DATABASE_SECRETS = {
    DbRole.VENUE: Secret("VenueDatabaseSecret", "the app_venue role's connection to RDS Proxy"),
    DbRole.ISSUER: Secret("IssuerDatabaseSecret", "the app_issuer role's connection to RDS Proxy"),
    DbRole.AUDIT: Secret("AuditDatabaseSecret", "the app_audit role's connection to RDS Proxy"),
    DbRole.WEBHOOK: Secret(
        "WebhookDatabaseSecret", "the app_webhook role's connection to RDS Proxy"
    ),
    DbRole.PAYMENTS: Secret(
        "PaymentsDatabaseSecret", "the app_payments role's connection to RDS Proxy"
    ),
}
#: Where every role connects: RDS Proxy, TLS required (its secret has no host).
DATABASE_HOST = {"DATABASE_HOST": get_att("DatabaseProxy.Endpoint")}
BINDING_KEY = Grant(
    secret=Secret("BindingKeySecret", "the key that signs the gate's bindings (id:base64)"),
    environment={"BINDING_KEY_SECRET_ARN": ref("BindingKeySecret")},
)
_PREVIOUS_KEY = Parameter(
    "PreviousSigningKeyId",
    "During a key rotation, the KMS key id (not its ARN) whose tokens are still in flight.",
    default="",
)
#: The gate reads the issuer's public keys from ``JwksUrl``, this API's own public address
#: (cached per container): a gated function in the VPC goes out through the NAT gateway.
JWKS_FETCH = Grant(security_groups=("InternetHttpsSecurityGroup",))
#: The template condition that holds while ``PreviousSigningKeyId`` is set.
ROTATING = "RotatingSigningKeys"
_KEY_IDS = {
    "TOKEN_SIGNING_KEY_IDS": {
        "Join": [",", [ref("TokenSigningKey"), ref(_PREVIOUS_KEY.name)]],
    }
}
_KEY_ARN = "arn:${AWS::Partition}:kms:${AWS::Region}:${AWS::AccountId}:key/"
#: During a rotation the previous key stays published (the JWKS) until its tokens expire.
_PREVIOUS_PUBLIC_KEY = Statement(
    ("kms:GetPublicKey",),
    {"Sub": _KEY_ARN + "${PreviousSigningKeyId}"},
    condition=ROTATING,
)
_AUDIT_BUCKET = Parameter("AuditBucketName", "The object-locked bucket of the audit log.")
_ALERTS = Parameter("AlertsTopicArn", "The SNS topic operational alerts go to.")
_MAIL_IDENTITY = Parameter(
    "MailIdentityArn", "The SES identity (a verified domain or address) mail is sent from."
)
_PLATFORM_FEE = Parameter(
    "PlatformFeeBps",
    "The platform's fee on each online payment, in basis points (250 = 2.5 %).",
    default="250",
)
_LIVEMODE = Parameter(
    "StripeLivemode",
    "Whether this deployment takes Stripe's live-mode events (true) or test-mode ones.",
    default="false",
    allowed=("true", "false"),
)
_MAIL_FROM = Parameter("MailFrom", "The address mail is sent from, of that SES identity.")

#: What each need gives a function.
NEEDS: Mapping[Need, Grant] = {
    Need.APP_KEYS: Grant(
        secret=Secret("AppKeysSecret", "the AES-256-GCM keys for sealed secrets"),
        environment={"APP_KEYS_SECRET_ARN": ref("AppKeysSecret")},
    ),
    Need.SIGNING_KEY: Grant(
        statements=(
            Statement(("kms:Sign", "kms:GetPublicKey"), get_att("TokenSigningKey.Arn")),
            _PREVIOUS_PUBLIC_KEY,
        ),
        environment=_KEY_IDS,
        parameters=(_PREVIOUS_KEY,),
    ),
    Need.PUBLIC_KEYS: Grant(
        statements=(
            Statement(("kms:GetPublicKey",), get_att("TokenSigningKey.Arn")),
            _PREVIOUS_PUBLIC_KEY,
        ),
        environment=_KEY_IDS,
        parameters=(_PREVIOUS_KEY,),
    ),
    Need.BREACH_CORPUS: Grant(
        # HTTPS to api.pwnedpasswords.com: out through the NAT gateway (docs/decisions.md).
        security_groups=("InternetHttpsSecurityGroup",),
        environment={"BREACH_CHECK_UNAVAILABLE": ref("BreachCheckUnavailable")},
        parameters=(
            Parameter(
                "BreachCheckUnavailable",
                "When the breach corpus cannot be reached: refuse new passwords, or allow.",
                default="refuse",
                allowed=("refuse", "allow"),
            ),
        ),
    ),
    Need.AUDIT_QUEUE: Grant(
        statements=(Statement(("sqs:SendMessage",), get_att("AuditQueue.Arn")),),
        environment={"AUDIT_QUEUE_URL": ref("AuditQueue")},
    ),
    Need.AUDIT_BUCKET: Grant(
        statements=(
            Statement(
                ("s3:PutObject",),
                {"Sub": "arn:${AWS::Partition}:s3:::${AuditBucketName}/*"},
            ),
        ),
        environment={"AUDIT_BUCKET_NAME": ref(_AUDIT_BUCKET.name)},
        parameters=(_AUDIT_BUCKET,),
    ),
    Need.ALERTS: Grant(
        statements=(Statement(("sns:Publish",), ref(_ALERTS.name)),),
        environment={"ALERTS_TOPIC_ARN": ref(_ALERTS.name)},
        parameters=(_ALERTS,),
    ),
    Need.MAIL: Grant(
        # SES's API over HTTPS: out through the NAT gateway, as the breach corpus.
        statements=(Statement(("ses:SendEmail",), ref(_MAIL_IDENTITY.name)),),
        security_groups=("InternetHttpsSecurityGroup",),
        environment={"MAIL_FROM": ref(_MAIL_FROM.name)},
        parameters=(_MAIL_IDENTITY, _MAIL_FROM),
    ),
    Need.IDENTITY_SALT: Grant(
        secret=Secret("IdentitySaltSecret", "the salt of diners' identities"),
        environment={"IDENTITY_SALT_SECRET_ARN": ref("IdentitySaltSecret")},
    ),
    Need.PIN_PEPPER: Grant(
        secret=Secret("PinPepperSecret", "the pepper of staff PIN digests"),
        environment={"PIN_PEPPER_SECRET_ARN": ref("PinPepperSecret")},
    ),
    Need.STRIPE_API: Grant(
        secret=Secret("StripeApiKeySecret", "Stripe's secret API key"),
        # Stripe's API over HTTPS: out through the NAT gateway.
        security_groups=("InternetHttpsSecurityGroup",),
        environment={
            "STRIPE_SECRET_ARN": ref("StripeApiKeySecret"),
            "PLATFORM_FEE_BPS": ref(_PLATFORM_FEE.name),
        },
        parameters=(_PLATFORM_FEE,),
    ),
    Need.WEBHOOK_SECRETS: Grant(
        secret=Secret("StripeWebhookSecret", "Stripe's webhook signing secrets"),
        environment={
            "STRIPE_WEBHOOK_SECRET_ARN": ref("StripeWebhookSecret"),
            "STRIPE_LIVEMODE": ref(_LIVEMODE.name),
        },
        parameters=(_LIVEMODE,),
    ),
    Need.WEBHOOK_QUEUE: Grant(
        statements=(Statement(("sqs:SendMessage",), get_att("WebhookQueue.Arn")),),
        environment={"WEBHOOK_QUEUE_URL": ref("WebhookQueue")},
    ),
}


def relays_audit_events(spec: RouteSpec) -> bool:
    """Whether the route's function may write audit events, so relays them after commit:
    the issuer's role writes platform-level events on any route, the venue role on gated,
    bound routes only (its outbox policies need a genuine binding; docs/database-roles.md)."""
    return spec.database is DbRole.ISSUER or (
        spec.database is DbRole.VENUE and spec.access in (Access.USER, Access.VENUE)
    )


def grants_of(spec: RouteSpec) -> list[Grant]:
    """Everything a route's function is given, in the template's order."""
    grants: list[Grant] = []
    if spec.database is not None:
        secret = DATABASE_SECRETS[spec.database]
        grants.append(
            Grant(
                secret=secret,
                environment={
                    "DATABASE_ROLE": spec.database.value,
                    "DATABASE_SECRET_ARN": ref(secret.name),
                    **DATABASE_HOST,
                },
            )
        )
    if spec.access in (Access.USER, Access.VENUE):
        grants.append(BINDING_KEY)
    if spec.access is not Access.PUBLIC:
        # Every gated function verifies tokens against the issuer's JWKS (device tokens too).
        grants.append(JWKS_FETCH)
    needs = spec.needs | ({Need.AUDIT_QUEUE} if relays_audit_events(spec) else set())
    grants += [NEEDS[need] for need in Need if need in needs]
    return grants


#: Every variable some grant sets: none of them may be given to all functions (Globals).
PER_FUNCTION_VARIABLES = frozenset(
    {"DATABASE_ROLE", "DATABASE_SECRET_ARN", *DATABASE_HOST}
    | set(BINDING_KEY.environment)
    | {name for grant in NEEDS.values() for name in grant.environment}
)


def function_name(declared: DeclaredRoute) -> str:
    """``auth.get_openid_configuration.handler`` is ``GetOpenidConfigurationFunction``."""
    module = declared.handler.split(".")[1]
    return "".join(part.capitalize() for part in module.split("_")) + "Function"


# --- permissions, as the checker compares them ------------------------------------------------

_GET_VALUE = "secretsmanager:GetSecretValue"


def _allowed(grants: Iterable[Grant]) -> set[tuple[str, str]]:
    """(action, resource) pairs, the resource written as in the template."""
    allowed: set[tuple[str, str]] = set()
    for grant in grants:
        if grant.secret is not None:
            allowed.add((_GET_VALUE, show(ref(grant.secret.name))))
        for statement in grant.statements:
            allowed |= {
                (action, _resource(show(statement.resource), statement.condition))
                for action in statement.actions
            }
    return allowed


def _resource(shown: str, condition: str | None) -> str:
    return shown if condition is None else f"{shown} if {condition}"


def _listed(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _granted(policies: Sequence[Any]) -> tuple[set[tuple[str, str]], list[str]]:
    """The (action, resource) pairs a function's ``Policies`` allow, and the entries this
    checker cannot read (anything but secret reads and plain Allow statements)."""
    allowed: set[tuple[str, str]] = set()
    unreadable: list[str] = []
    for policy in policies:
        condition = None
        if _conditional(policy):
            condition, policy = policy["If"][0], policy["If"][1]
        if isinstance(policy, Mapping) and set(policy) == {"AWSSecretsManagerGetSecretValuePolicy"}:
            secret = policy["AWSSecretsManagerGetSecretValuePolicy"]
            allowed.add((_GET_VALUE, show(secret.get("SecretArn", ""))))
            continue
        if isinstance(policy, Mapping) and set(policy) == {"Statement"}:
            for statement in _listed(policy["Statement"]):
                if not (
                    isinstance(statement, Mapping)
                    and set(statement) == {"Effect", "Action", "Resource"}
                    and statement["Effect"] == "Allow"
                ):
                    unreadable.append(show(statement))
                    continue
                allowed |= {
                    (str(action), _resource(show(resource), condition))
                    for action in _listed(statement["Action"])
                    for resource in _listed(statement["Resource"])
                }
            continue
        unreadable.append(show(policy))
    return allowed, unreadable


def _conditional(policy: Any) -> bool:
    """``!If [condition, policy, !Ref AWS::NoValue]``: a policy only while ``condition``."""
    return (
        isinstance(policy, Mapping)
        and set(policy) == {"If"}
        and isinstance(policy["If"], list)
        and len(policy["If"]) == 3
        and isinstance(policy["If"][0], str)
        and policy["If"][2] == ref("AWS::NoValue")
    )


def check(template: Mapping[str, Any], declared: Iterable[DeclaredRoute]) -> list[str]:
    """Where the template's functions differ from what their declarations imply: every
    permission missing or extra, every environment variable missing, extra or different,
    and per-function variables given to all functions. Empty when they agree."""
    functions = {
        resource.get("Properties", {}).get("Handler"): (name, resource.get("Properties", {}))
        for name, resource in template.get("Resources", {}).items()
        if resource.get("Type") == "AWS::Serverless::Function"
    }
    globals_ = template.get("Globals", {}).get("Function", {})
    shared = set(globals_.get("Environment", {}).get("Variables", {})) & PER_FUNCTION_VARIABLES
    problems = [f"Globals: every function is given {name}" for name in sorted(shared)]
    if "Role" in globals_:
        problems.append("Globals: every function shares one role")
    for route in sorted(declared, key=function_name):
        if route.handler not in functions:
            problems.append(f"{route.spec.route_key}: no function has handler {route.handler}")
            continue
        problems += _function_problems(*functions[route.handler], grants_of(route.spec))
    return problems


def _function_problems(name: str, props: Mapping[str, Any], grants: list[Grant]) -> list[str]:
    problems: list[str] = []
    if "Role" in props:
        problems.append(f"{name}: names a Role instead of being given its grants")
    expected = _allowed(grants)
    actual, unreadable = _granted(props.get("Policies", []))
    problems += [f"{name}: missing {act} on {res}" for act, res in sorted(expected - actual)]
    problems += [f"{name}: extra {act} on {res}" for act, res in sorted(actual - expected)]
    problems += [f"{name}: a policy this check cannot read: {text}" for text in unreadable]
    wanted = {key: show(value) for grant in grants for key, value in grant.environment.items()}
    given = {
        key: show(value) for key, value in props.get("Environment", {}).get("Variables", {}).items()
    }
    for key in sorted(wanted.keys() | given.keys()):
        if key not in given:
            problems.append(f"{name}: missing variable {key}")
        elif key not in wanted:
            problems.append(f"{name}: extra variable {key}")
        elif given[key] != wanted[key]:
            problems.append(f"{name}: {key} is {given[key]}, not {wanted[key]}")
    return problems


# --- writing ----------------------------------------------------------------------------------

_PLAIN = re.compile(r"[A-Za-z0-9_./:-]+")


def _scalar(value: str) -> str:
    if _PLAIN.fullmatch(value) and yaml.safe_load(value) == value:
        return value
    return json.dumps(value)


def show(value: Any) -> str:
    """``value`` in the template's short form, on one line."""
    if isinstance(value, str):
        return _scalar(value)
    if isinstance(value, list):
        return "[" + ", ".join(show(item) for item in value) + "]"
    if isinstance(value, Mapping) and len(value) == 1:
        ((tag, argument),) = value.items()
        if tag in ("Ref", "GetAtt", "Sub") and isinstance(argument, str):
            return f"!{tag} {_scalar(argument)}"
        if tag not in ("Ref", "GetAtt", "Sub") and isinstance(argument, list):
            return f"!{tag} {show(argument)}"
    if isinstance(value, Mapping):
        return "{" + ", ".join(f"{key}: {show(item)}" for key, item in value.items()) + "}"
    return json.dumps(value)


#: The alias every API function deploys through, and the hook that gates its traffic.
ALIAS = "live"
PRE_TRAFFIC_HOOK = "PreTrafficHookFunction"
#: Stack-wide alarms that also roll back any function's deployment (written by hand).
SHARED_ROLLBACK_ALARMS = ("ApiServerErrorRateAlarm",)
#: The resource that applies migrations: a function with a database deploys after it.
MIGRATIONS = "DatabaseMigrations"


def alarm_name(declared: DeclaredRoute) -> str:
    """The alarm on a function's new version: ``GetVenueFunction`` → ``GetVenueErrorsAlarm``."""
    return function_name(declared).removesuffix("Function") + "ErrorsAlarm"


def _policy_lines(statement: Statement) -> list[str]:
    lines = [
        "- Statement:",
        "    - Effect: Allow",
        f"      Action: {show(list(statement.actions))}",
        f"      Resource: {show(statement.resource)}",
    ]
    if statement.condition is None:
        return ["        " + line for line in lines]
    return [
        "        - !If",
        f"          - {statement.condition}",
        *("          " + line for line in lines),
        "          - !Ref AWS::NoValue",
    ]


def _function(declared: DeclaredRoute) -> list[str]:
    spec = declared.spec
    grants = grants_of(spec)
    name = function_name(declared)
    lines = [f"  {name}:", "    Type: AWS::Serverless::Function"]
    if spec.database is not None:
        lines.append(f"    DependsOn: {MIGRATIONS}")
    lines += ["    Properties:", f"      Handler: {declared.handler}"]
    policies: list[str] = []
    for grant in grants:
        if grant.secret is not None:
            policies += [
                "        - AWSSecretsManagerGetSecretValuePolicy:",
                f"            SecretArn: {show(ref(grant.secret.name))}",
            ]
        for statement in grant.statements:
            policies += _policy_lines(statement)
    if policies:
        lines += ["      Policies:", *policies]
    environment = {key: value for grant in grants for key, value in grant.environment.items()}
    if environment:
        lines += ["      Environment:", "        Variables:"]
        lines += [f"          {key}: {show(value)}" for key, value in environment.items()]
    if spec.database is not None:
        groups = ["FunctionSecurityGroup"]
        groups += [group for grant in grants for group in grant.security_groups]
        groups = list(dict.fromkeys(groups))
        lines += [
            "      VpcConfig:",
            "        SubnetIds: [!Ref PrivateSubnetA, !Ref PrivateSubnetB]",
            f"        SecurityGroupIds: {show([ref(group) for group in groups])}",
        ]
    alarms = [ref(alarm_name(declared)), *(ref(alarm) for alarm in SHARED_ROLLBACK_ALARMS)]
    lines += [
        f"      AutoPublishAlias: {ALIAS}",
        "      DeploymentPreference:",
        "        Type: !Ref DeploymentType",
        f"        Alarms: {show(alarms)}",
        "        Hooks:",
        f"          PreTraffic: !Ref {PRE_TRAFFIC_HOOK}",
        "      Events:",
        "        Api:",
        "          Type: HttpApi",
        "          Properties:",
        "            ApiId: !Ref HttpApi",
        f"            Method: {spec.method}",
        f"            Path: {spec.path}",
    ]
    if spec.access is Access.PUBLIC:
        lines += ["            Auth:", "              Authorizer: NONE"]
    return [*lines, "", *_alarm(declared)]


def _alarm(declared: DeclaredRoute) -> list[str]:
    """Errors or throttles of the function's new version (its alias) in a minute: rolls its
    canary back, and pages once traffic has shifted."""
    name = function_name(declared)
    metrics = []
    for metric_id, metric in (("errors", "Errors"), ("throttles", "Throttles")):
        metrics += [
            f"        - Id: {metric_id}",
            "          ReturnData: false",
            "          MetricStat:",
            "            Metric:",
            "              Namespace: AWS/Lambda",
            f"              MetricName: {metric}",
            "              Dimensions:",
            "                - Name: FunctionName",
            f"                  Value: !Ref {name}",
            "                - Name: Resource",
            f'                  Value: !Sub "${{{name}}}:{ALIAS}"',
            "            Period: 60",
            "            Stat: Sum",
        ]
    return [
        f"  {alarm_name(declared)}:",
        "    Type: AWS::CloudWatch::Alarm",
        "    Properties:",
        f"      AlarmDescription: {_scalar(declared.spec.route_key + ': errors or throttles')}",
        "      Metrics:",
        "        - Id: failures",
        "          Expression: errors + throttles",
        "          ReturnData: true",
        *metrics,
        "      EvaluationPeriods: 1",
        "      Threshold: 1",
        "      ComparisonOperator: GreaterThanOrEqualToThreshold",
        "      TreatMissingData: notBreaching",
    ]


def _parameter(parameter: Parameter) -> list[str]:
    lines = [
        f"  {parameter.name}:",
        "    Type: String",
        f"    Description: {_scalar(parameter.description)}",
    ]
    if parameter.default is not None:
        lines.append(f"    Default: {show(parameter.default)}")
    if parameter.allowed:
        lines.append(f"    AllowedValues: {show(list(parameter.allowed))}")
    return lines


def migrations_checksum() -> str:
    """What the migrations resource applies: infra/migrations and the code that applies
    them. A change here changes the resource, so the next deploy runs the migrations."""
    digest = hashlib.sha256()
    sources = [ROOT / "infra/migrate.py", ROOT / "infra/deploy/migrations.py"]
    sources += sorted((ROOT / "infra/migrations").glob("*.sql"))
    for source in sources:
        digest.update(source.relative_to(ROOT).as_posix().encode() + b"\0")
        digest.update(source.read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def _migrations() -> list[str]:
    return [
        "  # Applies pending migrations before any function with a database deploys (they",
        "  # depend on it); runs again whenever the migrations or the code applying them change,",
        "  # or MigrationsRun does (after a new binding key or role password is put in a secret).",
        f"  {MIGRATIONS}:",
        "    Type: Custom::Migrations",
        "    DependsOn: KeyMaterial",
        "    Properties:",
        "      ServiceToken: !GetAtt MigrationsTriggerFunction.Arn",
        f"      SchemaVersion: {SCHEMA_VERSION}",
        f"      MigrationsChecksum: {_scalar(migrations_checksum())}",
        "      Run: !Ref MigrationsRun",
        "      Database: !If [IsAurora, !Ref DatabaseWriter, !Ref DatabaseInstance]",
    ]


def functions_part(declared: Sequence[DeclaredRoute]) -> str:
    ordered = sorted(declared, key=lambda route: route.handler)
    names = [function_name(route) for route in ordered]
    clashes = sorted({name for name in names if names.count(name) > 1})
    if clashes:
        raise ValueError(f"two modules make the same function name {clashes}: rename one")
    parts = [*("\n".join(_function(route)) for route in ordered), "\n".join(_migrations())]
    return "\n\n".join(parts)


def parameters_part(declared: Sequence[DeclaredRoute]) -> str:
    used = {
        parameter.name
        for route in declared
        for grant in grants_of(route.spec)
        for parameter in grant.parameters
    }
    every = [parameter for grant in NEEDS.values() for parameter in grant.parameters]
    ordered = list(dict.fromkeys(p for p in every if p.name in used))
    return "\n".join(line for parameter in ordered for line in _parameter(parameter))


def _marker(part: str, end: bool) -> str:
    if end:
        return f"  # <<< end of the {part} `make template` writes"
    return f"  # >>> the {part} `make template` writes from the route declarations: not by hand"


def _replace(text: str, part: str, body: str) -> str:
    begin, end = _marker(part, end=False), _marker(part, end=True)
    pattern = re.compile(re.escape(begin) + r"\n.*?" + re.escape(end), re.DOTALL)
    if len(pattern.findall(text)) != 1:
        raise ValueError(f"template.yaml needs one pair of markers for the {part}:\n{begin}\n{end}")
    return pattern.sub(lambda _: f"{begin}\n{body}\n{end}", text)


def render(text: str, declared: Sequence[DeclaredRoute]) -> str:
    """``text`` (template.yaml) with its generated parts written from ``declared``."""
    text = _replace(text, "parameters", parameters_part(declared))
    return _replace(text, "functions", functions_part(declared))


def main() -> None:
    declared = discover(ROOT / "functions")
    TEMPLATE.write_text(render(TEMPLATE.read_text(), declared))


if __name__ == "__main__":
    main()
