"""What the fixtures are built from: the local issuer (the one `make dev` and the benchmarks
run, infra/local/issuer.py), a runtime over the test database, and the in-process client
of the local gateway."""

from __future__ import annotations

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway
from infra.local.issuer import BREACH_CORPUS, in_memory_issuer
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tenancy.db import PooledConnections
from tenancy.runtime import Runtime
from tenancy.tokens import KeySource, StaticKeySource, TokenVerifier

__all__ = [
    "BREACH_CORPUS",
    "api_client",
    "in_memory_issuer",
    "make_runtime",
    "trusted_keys",
]


def make_runtime(database: postgres.Database, keys: KeySource, pool_size: int = 8) -> Runtime:
    """A runtime on a pool of the runtime role's connections, trusting ``keys``."""
    return Runtime(
        connections=PooledConnections(database.runtime_url, max_size=pool_size),
        verifier=TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=keys),
    )


def trusted_keys(signing_key: SigningKey, issuer: Issuer) -> StaticKeySource:
    """The issuer's KMS key and the tests' local key (for tokens the tests forge on purpose)."""
    return StaticKeySource({"keys": issuer.signer.jwks()["keys"] + signing_key.jwks()["keys"]})


def api_client(runtime: Runtime, keys: KeySource, signing_key: SigningKey) -> ApiClient:
    """The local gateway in front of ``runtime``, its authorizer trusting ``keys``; the
    client mints tokens with ``signing_key``."""
    gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
    return ApiClient(gateway, signing_key, LOCAL_ISSUER, LOCAL_AUDIENCE)
