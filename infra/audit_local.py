"""Where the operations commands (audit_verify, audit_dlq) find the pipeline: the
environment, or, when it names nothing, the running `make dev` (its state folder)."""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from infra.local import state

__all__ = ["STATE_FILE", "Pipeline", "pipeline_settings", "write_state"]

#: What `make dev` writes in its state folder for these commands (mode 0600).
STATE_FILE = "audit.json"


@dataclass(frozen=True)
class Pipeline:
    #: A connection as app_audit (or any role that may read audit_log).
    database_url: str
    bucket: str
    queue_url: str = ""
    dlq_url: str = ""
    topic_arn: str = ""
    #: The AWS emulator, for `make dev`; empty: AWS itself (boto3's usual configuration).
    endpoint: str = ""

    def client(self, service: str) -> Any:
        import boto3

        if self.endpoint:
            from infra.local.aws import CREDENTIALS

            return boto3.client(service, endpoint_url=self.endpoint, **CREDENTIALS)
        return boto3.client(service)


def write_state(pipeline: Pipeline, env: Mapping[str, str] | None = None) -> None:
    """Record the running `make dev`'s pipeline for the commands (local only)."""
    directory = state.state_dir(env)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / STATE_FILE
    path.touch(mode=0o600)
    path.write_text(json.dumps(pipeline.__dict__, indent=2) + "\n")


def pipeline_settings(env: Mapping[str, str] | None = None) -> Pipeline:
    """AUDIT_DATABASE_URL (or DATABASE_URL), AUDIT_BUCKET_NAME, AUDIT_QUEUE_URL,
    AUDIT_DLQ_URL, ALERTS_TOPIC_ARN; when none is set, what the running `make dev` wrote."""
    env = os.environ if env is None else env
    database_url = env.get("AUDIT_DATABASE_URL") or env.get("DATABASE_URL", "")
    if database_url or env.get("AUDIT_BUCKET_NAME"):
        return Pipeline(
            database_url=database_url,
            bucket=env.get("AUDIT_BUCKET_NAME", ""),
            queue_url=env.get("AUDIT_QUEUE_URL", ""),
            dlq_url=env.get("AUDIT_DLQ_URL", ""),
            topic_arn=env.get("ALERTS_TOPIC_ARN", ""),
        )
    path = state.state_dir(env) / STATE_FILE
    if not path.is_file():
        raise SystemExit(
            "set AUDIT_DATABASE_URL and AUDIT_BUCKET_NAME (and AUDIT_QUEUE_URL, AUDIT_DLQ_URL,"
            " ALERTS_TOPIC_ARN), or start `make dev`"
        )
    return Pipeline(**json.loads(path.read_text()))
