"""The gate's own token checks: each attack is refused with a 401 problem."""

from __future__ import annotations

import base64
import json
import time
import uuid
from collections.abc import Callable, Mapping

import jwt
import pytest
from cryptography.hazmat.primitives import serialization

from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tenancy.problems import Problem
from tenancy.tokens import StaticKeySource, TokenVerifier

KEY = SigningKey.generate()
OTHER_ISSUER_KEY = SigningKey(kid=KEY.kid, private_key=SigningKey.generate().private_key)
USER_ID = uuid.uuid4()


def verifier() -> TokenVerifier:
    return TokenVerifier(
        issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(KEY.jwks())
    )


def b64(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def unsigned() -> str:
    header = {"alg": "none", "typ": "at+jwt", "kid": KEY.kid}
    now = int(time.time())
    claims = {
        "sub": str(USER_ID),
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }
    return f"{b64(header)}.{b64(claims)}."


def hs256_with_public_key() -> str:
    public_pem = KEY.private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    header = {"alg": "HS256", "typ": "at+jwt", "kid": KEY.kid}
    claims = {
        "sub": str(USER_ID),
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }
    import hashlib
    import hmac

    signing_input = f"{b64(header)}.{b64(claims)}"
    signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()


def tampered() -> str:
    header, payload, signature = KEY.access_token(USER_ID).split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
    claims["sub"] = str(uuid.uuid4())
    return f"{header}.{b64(claims)}.{signature}"


def without_sub() -> str:
    now = int(time.time())
    return jwt.encode(
        {"iss": LOCAL_ISSUER, "aud": LOCAL_AUDIENCE, "iat": now, "exp": now + 60, "jti": "x"},
        KEY.private_key,
        algorithm="ES256",
        headers={"kid": KEY.kid, "typ": "at+jwt"},
    )


ATTACKS: dict[str, Callable[[], str]] = {
    "alg none": unsigned,
    "HS256 signed with the public key": hs256_with_public_key,
    "unknown kid": lambda: KEY.access_token(USER_ID, headers={"kid": "nope"}),
    "expired": lambda: KEY.access_token(USER_ID, lifetime=-10),
    "not yet valid": lambda: KEY.access_token(USER_ID, nbf=int(time.time()) + 600),
    "wrong issuer": lambda: KEY.access_token(USER_ID, issuer="https://evil.example"),
    "wrong audience": lambda: KEY.access_token(USER_ID, audience="another-api"),
    "wrong typ": lambda: KEY.access_token(USER_ID, headers={"typ": "JWT"}),
    "id token instead of access token": lambda: KEY.access_token(
        USER_ID, headers={"typ": "id+jwt"}
    ),
    "tampered payload": tampered,
    "another issuer's key": lambda: OTHER_ISSUER_KEY.access_token(USER_ID),
    "missing sub": without_sub,
    "sub not a user id": lambda: KEY.access_token("till-device-7"),
    "not a jwt": lambda: "hello",
}


@pytest.mark.parametrize("make_token", ATTACKS.values(), ids=ATTACKS.keys())
def test_forged_or_unfit_tokens_are_refused(make_token: Callable[[], str]) -> None:
    with pytest.raises(Problem) as refused:
        verifier().verify(make_token())

    assert refused.value.status == 401
    assert refused.value.code == "unauthenticated"


def test_a_valid_access_token_names_its_user() -> None:
    identity = verifier().verify(KEY.access_token(USER_ID, scope="venue orders"))

    assert identity.user_id == USER_ID
    assert identity.scopes == frozenset({"venue", "orders"})
