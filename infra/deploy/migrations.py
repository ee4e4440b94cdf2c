"""Custom resource: apply pending migrations (infra/migrate.py) as the owner role before
the new functions take traffic. Every API function of the stack depends on it, and the
readiness check the PreTraffic hook runs refuses a schema without them.

Two functions: ``apply_handler`` runs in the private subnets and connects straight to the
database (not RDS Proxy) as the administrative user, over TLS verified against the RDS CA
bundle; it reads the login roles' passwords from their secrets (so the roles'
passwords are what RDS Proxy presents) and the binding key. ``handler``, outside the VPC,
is the custom resource: it invokes ``apply_handler`` and answers CloudFormation (whose
pre-signed response URL is on the internet, which the private subnets cannot reach but
through the NAT gateway). A failure fails the stack update, which CloudFormation rolls
back; a Delete changes nothing.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from typing import Any

from infra import migrate
from infra.deploy.custom_resource import Respond, http_respond, run
from tenancy.runtime import conninfo_from_secret

__all__ = ["apply", "apply_handler", "handler", "invoke_apply"]

ROLE_SECRETS = {
    migrate.VENUE_ROLE: "VENUE_DATABASE_SECRET_ARN",
    migrate.ISSUER_ROLE: "ISSUER_DATABASE_SECRET_ARN",
    migrate.AUDIT_ROLE: "AUDIT_DATABASE_SECRET_ARN",
    migrate.WEBHOOK_ROLE: "WEBHOOK_DATABASE_SECRET_ARN",
    migrate.PAYMENTS_ROLE: "PAYMENTS_DATABASE_SECRET_ARN",
}


def apply(
    env: Mapping[str, str],
    read_secret: Callable[[str], str],
    apply_migrations: Callable[..., list[str]] = migrate.migrate,
) -> dict[str, str]:
    admin = json.loads(read_secret(env["ADMIN_SECRET_ARN"]))
    conninfo = conninfo_from_secret(
        {**admin, "dbname": env["DATABASE_NAME"], "port": env.get("DATABASE_PORT", "5432")},
        host=env["DATABASE_HOST"],
    )
    passwords = {
        role: str(json.loads(read_secret(env[variable]))["password"])
        for role, variable in ROLE_SECRETS.items()
    }
    applied = apply_migrations(
        conninfo, passwords=passwords, binding_key=read_secret(env["BINDING_KEY_SECRET_ARN"])
    )
    newest = max(path.name for path in migrate.MIGRATIONS.glob("*.sql"))
    return {"Applied": ",".join(applied) or "none", "SchemaVersion": newest}


def apply_handler(event: Mapping[str, Any], context: Any = None) -> dict[str, str]:
    """Apply the migrations (in the VPC); an error fails the invocation."""
    import boto3

    client = boto3.client("secretsmanager")

    def read_secret(arn: str) -> str:
        value: str = client.get_secret_value(SecretId=arn)["SecretString"]
        return value

    return apply(os.environ, read_secret)


def invoke_apply(lambda_client: Any, function: str) -> dict[str, str]:
    """``apply_handler``'s answer, or its error raised here."""
    answer = lambda_client.invoke(FunctionName=function, InvocationType="RequestResponse")
    payload = json.loads(answer["Payload"].read() or b"null")
    if answer.get("FunctionError"):
        message = payload.get("errorMessage") if isinstance(payload, dict) else payload
        raise RuntimeError(f"the migrations failed: {message}")
    return {str(key): str(value) for key, value in payload.items()}


def handler(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    lambda_client: Any = None,
    respond: Respond = http_respond,
) -> dict[str, Any]:
    """The custom resource: invoke the migrations in the VPC, then answer CloudFormation."""
    if lambda_client is None:
        import boto3

        lambda_client = boto3.client("lambda")
    function = os.environ.get("APPLY_FUNCTION", "")
    return run(event, lambda properties: invoke_apply(lambda_client, function), respond=respond)
