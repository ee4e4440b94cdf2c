"""Typed settings, read once per Lambda container from its environment."""

from __future__ import annotations

import functools
import os
from collections.abc import Mapping

from pydantic import BaseModel, ConfigDict, Field

__all__ = ["Settings", "settings"]


class Settings(BaseModel):
    """Everything a function needs from its environment (template.yaml sets these)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    #: The database role this function connects as (its route declaration says which).
    database_role: str = ""
    #: Connection string of that role; in AWS the secret below is used instead.
    database_url: str = ""
    #: Secrets Manager ARN holding that role's connection details, when no URL is set.
    database_secret_arn: str = ""
    #: Where that role connects (RDS Proxy's endpoint); the secret's ``host`` when unset.
    database_host: str = ""
    #: The key that signs the gate's bindings (``id:base64``), or the secret holding it.
    binding_key: str = ""
    binding_key_secret_arn: str = ""
    #: The pepper of staff PIN digests (``id:base64,...``, active first), or its secret.
    pin_pepper: str = ""
    pin_pepper_secret_arn: str = ""
    token_issuer: str = Field(min_length=1)
    token_audience: str = Field(min_length=1)
    #: Where the gate reads the issuer's public keys (https:// in AWS, file:// locally).
    jwks_url: str = Field(min_length=1)
    #: Seconds the JWKS stays cached before a refresh; an unknown `kid` refreshes sooner.
    jwks_cache_seconds: int = Field(default=300, ge=0)
    max_body_bytes: int = Field(default=64 * 1024, gt=0)
    stage: str = "local"
    #: Errors are reported to Sentry only when this is an ``https://`` DSN.
    sentry_dsn: str = ""
    #: KMS key ids of the token signing keys, the active first: the readiness check asks
    #: KMS for their public keys (the functions given PUBLIC_KEYS or SIGNING_KEY get them).
    token_signing_key_ids: str = ""
    #: The audit pipeline (tenancy.Need): the FIFO queue the relay and the sweeper send to,
    #: the object-locked bucket the consumer copies events to, the alerts topic.
    audit_queue_url: str = ""
    audit_bucket_name: str = ""
    alerts_topic_arn: str = ""

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        env = os.environ if env is None else env
        values = {name: env[name.upper()] for name in cls.model_fields if name.upper() in env}
        return cls.model_validate(values)


@functools.cache
def settings() -> Settings:
    """The process's settings, parsed on first use (not at import)."""
    return Settings.from_env()
