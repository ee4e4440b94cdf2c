"""The CloudFormation custom resource protocol: do the work, then PUT the outcome to the
pre-signed ``ResponseURL``. A failure is reported (the stack update fails and rolls back),
never left to time out."""

from __future__ import annotations

import json
import logging
import urllib.request
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Respond", "http_respond", "run"]

#: Sends the response document to CloudFormation.
Respond = Callable[[str, Mapping[str, Any]], None]
log = logging.getLogger(__name__)


def http_respond(url: str, document: Mapping[str, Any]) -> None:
    data = json.dumps(document).encode()
    if not url.startswith("https://"):
        raise ValueError("CloudFormation's ResponseURL is https")
    request = urllib.request.Request(  # noqa: S310 (https only, checked above)
        url, data=data, method="PUT", headers={"content-type": ""}
    )
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 # nosec B310
        answer.read()


def run(
    event: Mapping[str, Any],
    work: Callable[[Mapping[str, Any]], Mapping[str, str]],
    *,
    respond: Respond = http_respond,
    on_delete: Callable[[Mapping[str, Any]], None] | None = None,
) -> dict[str, Any]:
    """Run ``work`` (Create, Update) or ``on_delete`` (Delete; nothing by default) and
    report the outcome; returns the document sent."""
    physical = str(event.get("PhysicalResourceId") or event["LogicalResourceId"])
    document: dict[str, Any] = {
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
        "PhysicalResourceId": physical,
    }
    try:
        if event["RequestType"] == "Delete":
            if on_delete is not None:
                on_delete(event)
            data: Mapping[str, str] = {}
        else:
            data = work(event.get("ResourceProperties") or {})
        document |= {"Status": "SUCCESS", "Data": dict(data)}
    except Exception as error:
        log.exception("custom resource %s failed", event["LogicalResourceId"])
        # The reason is shown in the stack's events: the error's type and message only.
        document |= {"Status": "FAILED", "Reason": f"{type(error).__name__}: {error}"[:1000]}
    respond(str(event["ResponseURL"]), document)
    return document
