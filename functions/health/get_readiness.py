"""GET /health/ready: whether this stack can serve. The canary deploy's PreTraffic hook
invokes the new version of this function and lets traffic shift only when it answers 200:

- the database answers the venue functions' role (its secret was readable);
- over TLS, when the connection was built from a secret (in AWS: verify-full, RDS Proxy);
- the schema has the migration this code needs (``tenancy.schema.SCHEMA_VERSION``);
- KMS gives the active signing key's public half (when the function is given key ids).

Anything else answers 503 ``not-ready`` naming the check that failed; a database that
cannot be reached at all fails before the handler runs (500).
"""

import functools
import os
from typing import Any

from health.models import Readiness
from tenancy import Need, NoBody, NoQuery, Problem, Request, public_route
from tenancy.schema import SCHEMA_VERSION


def not_ready(check: str) -> Problem:
    return Problem(503, "not-ready", f"not ready: {check}", headers={"retry-after": "10"})


@functools.cache
def _kms() -> Any:
    import boto3

    return boto3.client("kms")


def _active_signing_key() -> str:
    return os.environ.get("TOKEN_SIGNING_KEY_IDS", "").split(",")[0].strip()


@public_route(
    "GET",
    "/health/ready",
    summary="Readiness: database over TLS, schema version, signing key",
    response=Readiness,
    needs={Need.PUBLIC_KEYS},
)
def handler(request: Request[NoQuery, NoBody]) -> Readiness:
    applied = request.db.execute(
        "SELECT EXISTS (SELECT 1 FROM public.schema_migrations WHERE name = %s)",
        (SCHEMA_VERSION,),
    ).fetchone()
    if os.environ.get("DATABASE_SECRET_ARN") and not request.db.pgconn.ssl_in_use:
        raise not_ready("the database connection is not encrypted")
    if applied is None or not applied[0]:
        raise not_ready(f"the schema lacks {SCHEMA_VERSION}")
    key = _active_signing_key()
    if key:
        try:
            _kms().get_public_key(KeyId=key)
        except Exception:
            raise not_ready("the signing key's public half cannot be read") from None
    return Readiness(status="ok", database="ok")
