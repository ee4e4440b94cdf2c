"""Each issuer route reaches only what its function is granted in AWS.

A deployed function holds exactly the grants its route declares (``needs``, written into
template.yaml by `make template`). These tests run the routes with only those grants and
see what they reach.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from auth.config import Issuer, IssuerSettings, install_issuer
from infra.local.client import ApiClient
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER

REGION = "eu-south-1"


class GrantedKms:
    """A KMS client allowed only ``granted`` operations, as IAM would allow them; any other
    operation is refused, as AWS would refuse it."""

    def __init__(self, kms: Any, granted: set[str]) -> None:
        self._kms = kms
        self._granted = granted
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation not in self._granted:
            raise PermissionError(f"AccessDenied: kms:{operation} is not granted")

        def call(**kwargs: Any) -> Any:
            self.calls.append(operation)
            return getattr(self._kms, operation)(**kwargs)

        return call


@pytest.fixture
def install(issuer: Issuer) -> Iterator[Callable[[Issuer], None]]:
    """Installs another issuer for one test; the session's comes back afterwards."""
    yield install_issuer
    install_issuer(issuer)


def test_the_jwks_needs_only_the_public_keys(
    api: ApiClient, issuer: Issuer, install: Callable[[Issuer], None]
) -> None:
    """Given an issuer with no app keys (nor a secret to read them from) whose KMS grants
    only GetPublicKey, when the JWKS is fetched, then it lists the signing key, and KMS was
    asked for public keys only."""
    import boto3

    kms = GrantedKms(boto3.client("kms", region_name=REGION), {"get_public_key"})
    settings = IssuerSettings(
        token_issuer=LOCAL_ISSUER,
        token_audience=LOCAL_AUDIENCE,
        token_signing_key_ids=issuer.settings.token_signing_key_ids,
    )
    install(Issuer(settings, kms_client=lambda: kms))

    response = api.request("GET", "/.well-known/jwks.json")

    assert response.status == 200, response.text
    assert response.json()["keys"] == issuer.signer.jwks()["keys"]
    assert set(kms.calls) == {"get_public_key"}


def test_the_discovery_document_needs_nothing_from_aws(
    api: ApiClient, install: Callable[[Issuer], None]
) -> None:
    """Given an issuer with no signing keys, no app keys and no KMS client at all, when the
    discovery document is fetched, then it is served from the settings alone."""
    asked_for_kms: list[bool] = []

    def no_kms() -> object:
        asked_for_kms.append(True)
        raise PermissionError("this function has no KMS grant")

    settings = IssuerSettings(token_issuer=LOCAL_ISSUER, token_audience=LOCAL_AUDIENCE)
    install(Issuer(settings, kms_client=no_kms))

    response = api.request("GET", "/.well-known/openid-configuration")

    assert response.status == 200, response.text
    assert response.json()["issuer"] == LOCAL_ISSUER
    assert asked_for_kms == []
