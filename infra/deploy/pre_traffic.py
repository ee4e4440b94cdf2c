"""The canary deploy's PreTraffic hook: CodeDeploy calls it before shifting any traffic to
a new function version. It invokes the new version of the readiness function (GET
/health/ready: database over TLS, schema version, signing key) and reports Succeeded only
on a 200; anything else (a 503, a 500, an error, no answer) reports Failed, and CodeDeploy
stops the deployment and rolls the alias back.

Its name starts with ``CodeDeployHook_``: SAM's CodeDeploy role may invoke only such
functions.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping
from typing import Any

__all__ = ["READINESS_EVENT", "handler", "ready"]

log = logging.getLogger(__name__)

#: What API Gateway would send for GET /health/ready (payload format 2.0).
READINESS_EVENT = {
    "version": "2.0",
    "routeKey": "GET /health/ready",
    "rawPath": "/health/ready",
    "rawQueryString": "",
    "headers": {"user-agent": "codedeploy-pre-traffic-hook"},
    "requestContext": {
        "http": {"method": "GET", "path": "/health/ready", "sourceIp": "127.0.0.1"},
        "requestId": "pre-traffic-hook",
    },
    "isBase64Encoded": False,
}


def ready(lambda_client: Any, function: str) -> bool:
    """Whether ``function`` (the readiness function's new version) answers 200 ok."""
    try:
        answer = lambda_client.invoke(
            FunctionName=function,
            InvocationType="RequestResponse",
            Payload=json.dumps(READINESS_EVENT).encode(),
        )
        if answer.get("FunctionError"):
            log.error("readiness raised: %s", answer["Payload"].read()[:2000])
            return False
        response = json.loads(answer["Payload"].read())
        if response.get("statusCode") != 200:
            log.error("readiness answered %s: %s", response.get("statusCode"), response.get("body"))
            return False
        return bool(json.loads(response["body"]).get("status") == "ok")
    except Exception:
        log.exception("readiness could not be asked")
        return False


def handler(
    event: Mapping[str, Any],
    context: Any = None,
    *,
    lambda_client: Any = None,
    codedeploy: Any = None,
    environ: Mapping[str, str] = os.environ,
) -> str:
    """Report the readiness of the new version to CodeDeploy; returns the status sent."""
    if lambda_client is None or codedeploy is None:
        import boto3

        lambda_client = lambda_client or boto3.client("lambda")
        codedeploy = codedeploy or boto3.client("codedeploy")
    status = "Succeeded" if ready(lambda_client, environ["READINESS_FUNCTION"]) else "Failed"
    codedeploy.put_lifecycle_event_hook_execution_status(
        deploymentId=event["DeploymentId"],
        lifecycleEventHookExecutionId=event["LifecycleEventHookExecutionId"],
        status=status,
    )
    return status
