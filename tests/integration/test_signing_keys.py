"""The issuer's keys: published by kid, rotated without orphaning tokens in flight."""

from __future__ import annotations

import uuid

import pytest

from auth.config import Issuer
from auth.grants import access_token
from infra.local.client import ApiClient
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER
from tenancy.problems import Problem
from tenancy.tokens import StaticKeySource, TokenVerifier


def verifier_for(jwks: dict[str, object]) -> TokenVerifier:
    return TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(jwks))


def token_of(issuer: Issuer) -> str:
    return access_token(
        issuer, subject=str(uuid.uuid4()), client_id="admin-spa", scope="account", session=None
    )


def test_the_jwks_route_publishes_the_signing_key(api: ApiClient, issuer: Issuer) -> None:
    response = api.get("/.well-known/jwks.json")

    assert response.status == 200
    assert response.json() == issuer.signer.jwks()
    assert {"kty", "crv", "x", "y", "kid"} <= set(response.json()["keys"][0])
    assert "d" not in response.json()["keys"][0]


def test_the_discovery_document_points_at_the_issuers_endpoints(api: ApiClient) -> None:
    document = api.get("/.well-known/openid-configuration").json()

    assert document["issuer"] == LOCAL_ISSUER
    assert document["jwks_uri"].endswith("/.well-known/jwks.json")
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert "password" not in document["grant_types_supported"]


def test_a_rotation_keeps_tokens_in_flight_valid(issuer: Issuer) -> None:
    """Given tokens signed with the current key, when a new key becomes active and the old
    one stays published, then old tokens still verify, new ones carry the new kid, and once
    the old key is withdrawn its tokens are refused."""
    import boto3

    from auth.signing import KmsTokenSigner

    kms = boto3.client("kms", region_name="eu-south-1")
    old_key = issuer.settings.signing_key_ids[0]
    new_key = kms.create_key(KeyUsage="SIGN_VERIFY", KeySpec="ECC_NIST_P256")["KeyMetadata"][
        "KeyId"
    ]
    in_flight = token_of(issuer)

    rotating = Issuer(
        settings=issuer.settings,
        signer=KmsTokenSigner(kms, [new_key, old_key]),
        breaches=issuer.breaches,
        secrets=issuer.secrets,
    )
    fresh = token_of(rotating)
    during = verifier_for(rotating.signer.jwks())

    assert len(rotating.signer.jwks()["keys"]) == 2
    assert during.verify(in_flight)
    assert during.verify(fresh)
    import jwt

    assert jwt.get_unverified_header(fresh)["kid"] == rotating.signer.kid_for(new_key)

    after = verifier_for(KmsTokenSigner(kms, [new_key]).jwks())
    assert after.verify(fresh)
    with pytest.raises(Problem):
        after.verify(in_flight)
