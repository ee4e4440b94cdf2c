"""Custom resource: the stack's own key material, made in the account on the first deploy
and never seen by a person: the gate's binding key, the app keys that seal secrets, the
identity salt, the pepper of staff PIN digests. CloudFormation's generated secrets cannot
take these formats (``id:base64`` of 32 random bytes), so each secret is created with a
placeholder and filled here once; a secret that holds anything else (a rotated key, a value
put by hand) is left alone."""

from __future__ import annotations

import base64
import datetime as dt
import os
from collections.abc import Mapping
from typing import Any

from infra.deploy.custom_resource import run

__all__ = ["PLACEHOLDER", "fill", "handler", "new_key"]

#: What template.yaml puts in each of these secrets until this resource fills it.
PLACEHOLDER = "generated-on-first-deploy"
#: ResourceProperties name → format: ``keyed`` is ``id:base64`` (a key id for rotation).
SECRETS = {
    "BindingKeySecretArn": "keyed",
    "AppKeysSecretArn": "keyed",
    "IdentitySaltSecretArn": "raw",
    "PinPepperSecretArn": "keyed",
}


def new_key(kind: str) -> str:
    """32 random bytes, base64; ``keyed``: with a key id (``k<date>:``) for rotation."""
    material = base64.b64encode(os.urandom(32)).decode()
    if kind == "raw":
        return material
    return f"k{dt.datetime.now(dt.UTC):%Y%m%d}:{material}"


def fill(properties: Mapping[str, Any], client: Any) -> dict[str, str]:
    """Put new material in each named secret that still holds the placeholder."""
    made = []
    for name, kind in SECRETS.items():
        arn = properties.get(name)
        if not arn:
            continue
        current = client.get_secret_value(SecretId=arn)["SecretString"]
        if current == PLACEHOLDER:
            client.put_secret_value(SecretId=arn, SecretString=new_key(kind))
            made.append(name)
    return {"Made": ",".join(made)}


def handler(event: Mapping[str, Any], context: Any = None) -> dict[str, Any]:
    import boto3

    client = boto3.client("secretsmanager")
    return run(event, lambda properties: fill(properties, client))
