"""A local ES256 key for tests that must forge or hand-craft access tokens (the attack
catalogue, tokens of users the issuer would not sign in). The issuer itself signs with KMS.

Never deployed: infra/ is not part of any function's code or layer.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

LOCAL_ISSUER = "http://127.0.0.1:8787"
LOCAL_AUDIENCE = "venue-api"


@dataclass(frozen=True)
class SigningKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey

    @classmethod
    def generate(cls) -> SigningKey:
        return cls(kid=uuid.uuid4().hex[:16], private_key=ec.generate_private_key(ec.SECP256R1()))

    def jwk(self) -> dict[str, Any]:
        public = json.loads(jwt.algorithms.ECAlgorithm.to_jwk(self.private_key.public_key()))
        return {**public, "kid": self.kid, "use": "sig", "alg": "ES256"}

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self.jwk()]}

    def access_token(
        self,
        subject: uuid.UUID | str,
        *,
        issuer: str = LOCAL_ISSUER,
        audience: str = LOCAL_AUDIENCE,
        lifetime: int = 900,
        client_id: str = "admin-spa",
        scope: str = "account venue",
        headers: dict[str, Any] | None = None,
        **claims: Any,
    ) -> str:
        now = int(time.time())
        payload = {
            "iss": issuer,
            "aud": audience,
            "sub": str(subject),
            "client_id": client_id,
            "scope": scope,
            "iat": now,
            "exp": now + lifetime,
            "jti": uuid.uuid4().hex,
            **claims,
        }
        return jwt.encode(
            payload,
            self.private_key,
            algorithm="ES256",
            headers={"kid": self.kid, "typ": "at+jwt", **(headers or {})},
        )
