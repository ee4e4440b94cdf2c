"""What a running function is wired to: connections, the token verifier, logging, Sentry.

Built once per Lambda container from the environment; tests and the local gateway build
their own and pass it in, instead of patching modules.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, Self, TypeVar

from tenancy.bindings import Binder, LazyBindingKey
from tenancy.db import ConnectionSource, SingleConnection
from tenancy.log import Log
from tenancy.metrics import Metrics, silent
from tenancy.relay import Relay, SqsRelay, no_relay
from tenancy.settings import Settings, settings
from tenancy.spec import DbRole
from tenancy.tokens import JwksKeySource, TokenVerifier

__all__ = [
    "RDS_CA_BUNDLE",
    "Collaborator",
    "Runtime",
    "connection_source",
    "conninfo_from_secret",
    "current_runtime",
    "install_runtime",
]

#: The certificate authorities of Amazon RDS and RDS Proxy, shipped with this layer: a
#: connection built from a secret verifies the server's certificate and name against them.
RDS_CA_BUNDLE = Path(__file__).with_name("rds-ca-bundle.pem")


class Collaborator(Protocol):
    """Something handlers use beyond the database (the issuer, a Stripe client, ...): built
    from the environment on first use, or given to the runtime by tests and the local
    stack."""

    @classmethod
    def from_environment(cls) -> Self: ...


C = TypeVar("C", bound=Collaborator)


@dataclass
class Runtime:
    #: A connection source per database role; a deployed function has exactly its own.
    databases: Mapping[DbRole, ConnectionSource]
    verifier: TokenVerifier
    #: Signs the gate's bindings; the database verifies them (tenancy.bindings).
    binding_key: Binder
    max_body_bytes: int = 64 * 1024
    log: Log = field(default_factory=Log)
    report: Callable[[BaseException], None] = lambda error: None
    #: Sends a request's audit events to the audit queue once its transaction committed.
    relay: Relay = no_relay
    #: Business metrics (EMF on stdout in Lambda; silent unless asked for elsewhere).
    metrics: Metrics = field(default_factory=silent)
    #: Collaborators by their type; missing ones are built from the environment when first
    #: asked for (``collaborator``).
    collaborators: dict[type, Any] = field(default_factory=dict)
    _collaborators_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def collaborator(self, kind: type[C]) -> C:
        with self._collaborators_lock:
            if kind not in self.collaborators:
                self.collaborators[kind] = kind.from_environment()
            found: C = self.collaborators[kind]
            return found

    def database(self, role: DbRole) -> ConnectionSource:
        try:
            return self.databases[role]
        except KeyError:
            raise RuntimeError(
                f"this function has no connection as {role}: its declaration and its"
                " deployment disagree"
            ) from None

    @classmethod
    def from_settings(cls, config: Settings) -> Runtime:
        databases: dict[DbRole, ConnectionSource] = {}
        if config.database_role:
            databases[DbRole(config.database_role)] = connection_source(config)
        return cls(
            databases=databases,
            verifier=TokenVerifier(
                issuer=config.token_issuer,
                audience=config.token_audience,
                keys=JwksKeySource(config.jwks_url, cache_seconds=config.jwks_cache_seconds),
            ),
            binding_key=LazyBindingKey(
                lambda: config.binding_key or _secret_string(config.binding_key_secret_arn)
            ),
            max_body_bytes=config.max_body_bytes,
            report=_sentry_reporter(config),
            relay=SqsRelay(config.audit_queue_url) if config.audit_queue_url else no_relay,
            metrics=Metrics(),
        )


def _secret_string(arn: str) -> str:
    if not arn:
        raise RuntimeError("set BINDING_KEY or BINDING_KEY_SECRET_ARN")
    import boto3

    value: str = boto3.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return value


def _conninfo(config: Settings) -> str:
    if config.database_url:
        return config.database_url
    if not config.database_secret_arn:
        raise RuntimeError("set DATABASE_URL or DATABASE_SECRET_ARN")
    return conninfo_from_secret(
        json.loads(_secret_string(config.database_secret_arn)), host=config.database_host
    )


def conninfo_from_secret(secret: Mapping[str, object], *, host: str = "") -> str:
    """The connection string of a role's secret (``username``, ``password``, ``dbname``,
    ``port``, and ``host`` unless ``host`` is given: RDS Proxy's endpoint). TLS is required
    and the server's certificate and name are verified against the RDS CA bundle."""
    from psycopg.conninfo import make_conninfo

    return make_conninfo(
        host=host or str(secret["host"]),
        port=str(secret.get("port", 5432)),
        dbname=str(secret["dbname"]),
        user=str(secret["username"]),
        password=str(secret["password"]),
        sslmode="verify-full",
        sslrootcert=str(RDS_CA_BUNDLE),
        connect_timeout="5",
    )


def _sentry_reporter(config: Settings) -> Callable[[BaseException], None]:
    """Errors go to Sentry only when a DSN is set (``https://...``); anything else, such as
    the deployed secret's placeholder, leaves Sentry out and never imports it."""
    from tenancy.sentry import reporter

    return reporter(config.sentry_dsn, config.stage)


def connection_source(config: Settings) -> SingleConnection:
    """This function's one connection, as its role (``DATABASE_URL`` or its secret)."""
    return SingleConnection(lambda: _conninfo(config))


_lock = threading.Lock()
_runtime: Runtime | None = None


def current_runtime() -> Runtime:
    """The process's runtime, built from the environment on first use."""
    global _runtime
    with _lock:
        if _runtime is None:
            _runtime = Runtime.from_settings(settings())
        return _runtime


def install_runtime(runtime: Runtime | None) -> None:
    """Use ``runtime`` for every handler of this process (the local gateway does this)."""
    global _runtime
    with _lock:
        _runtime = runtime


logging.getLogger("psycopg").setLevel(logging.WARNING)
