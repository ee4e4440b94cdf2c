"""The token attack catalogue, built against whichever key the system under test trusts."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Mapping

import jwt
from cryptography.hazmat.primitives import serialization

from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey


def b64(data: Mapping[str, object]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def _claims(user_id: uuid.UUID) -> dict[str, object]:
    now = int(time.time())
    return {
        "sub": str(user_id),
        "iss": LOCAL_ISSUER,
        "aud": LOCAL_AUDIENCE,
        "iat": now,
        "exp": now + 60,
        "jti": "x",
    }


def attacks(key: SigningKey, user_id: uuid.UUID) -> dict[str, Callable[[], str]]:
    """Tokens that must all be refused, though ``key`` is trusted and ``user_id`` exists."""
    impostor = SigningKey(kid=key.kid, private_key=SigningKey.generate().private_key)

    def unsigned() -> str:
        return f"{b64({'alg': 'none', 'typ': 'at+jwt', 'kid': key.kid})}.{b64(_claims(user_id))}."

    def hs256_with_public_key() -> str:
        public_pem = key.private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        header = {"alg": "HS256", "typ": "at+jwt", "kid": key.kid}
        signing_input = f"{b64(header)}.{b64(_claims(user_id))}"
        signature = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
        return signing_input + "." + base64.urlsafe_b64encode(signature).rstrip(b"=").decode()

    def tampered() -> str:
        header, payload, signature = key.access_token(user_id).split(".")
        claims = json.loads(base64.urlsafe_b64decode(payload + "=="))
        claims["scope"] = "account venue admin"
        return f"{header}.{b64(claims)}.{signature}"

    def without_sub() -> str:
        claims = _claims(user_id)
        del claims["sub"]
        return jwt.encode(
            claims, key.private_key, algorithm="ES256", headers={"kid": key.kid, "typ": "at+jwt"}
        )

    return {
        "alg none": unsigned,
        "HS256 signed with the public key": hs256_with_public_key,
        "unknown kid": lambda: key.access_token(user_id, headers={"kid": "nope"}),
        "expired": lambda: key.access_token(user_id, lifetime=-10),
        "not yet valid": lambda: key.access_token(user_id, nbf=int(time.time()) + 600),
        "wrong issuer": lambda: key.access_token(user_id, issuer="https://evil.example"),
        "wrong audience": lambda: key.access_token(user_id, audience="another-api"),
        "wrong typ": lambda: key.access_token(user_id, headers={"typ": "JWT"}),
        "id token instead of access token": lambda: key.access_token(
            user_id, headers={"typ": "id+jwt"}
        ),
        "tampered payload": tampered,
        "another issuer's key": lambda: impostor.access_token(user_id),
        "missing sub": without_sub,
        "sub not a user id": lambda: key.access_token("till-device-7"),
        "not a jwt": lambda: "hello",
    }
