"""Access tokens signed ES256 by an asymmetric KMS key: the private key never leaves KMS."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = ["KmsTokenSigner"]


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


class KmsTokenSigner:
    """Signs with ``key_ids[0]``; publishes every listed key, so a rotation (new key first,
    old key kept until its tokens expire) needs no downtime."""

    def __init__(self, kms: Any, key_ids: Sequence[str]) -> None:
        if not key_ids:
            raise ValueError("at least one signing key is needed")
        self._kms = kms
        self._key_ids = list(key_ids)
        self._public: dict[str, tuple[str, dict[str, Any]]] = {}
        self._lock = threading.Lock()

    def _public_jwk(self, key_id: str) -> tuple[str, dict[str, Any]]:
        """(kid, JWK) of a key, fetched from KMS once."""
        with self._lock:
            if key_id not in self._public:
                from cryptography.hazmat.primitives.asymmetric import ec
                from cryptography.hazmat.primitives.serialization import load_der_public_key

                der = self._kms.get_public_key(KeyId=key_id)["PublicKey"]
                key = load_der_public_key(der)
                if not isinstance(key, ec.EllipticCurvePublicKey):
                    raise ValueError(f"KMS key {key_id} is not an EC key")
                numbers = key.public_numbers()
                kid = hashlib.sha256(der).hexdigest()[:16]
                jwk = {
                    "kty": "EC",
                    "crv": "P-256",
                    "x": _b64(numbers.x.to_bytes(32, "big")),
                    "y": _b64(numbers.y.to_bytes(32, "big")),
                    "kid": kid,
                    "use": "sig",
                    "alg": "ES256",
                }
                self._public[key_id] = (kid, jwk)
            return self._public[key_id]

    def kid_for(self, key_id: str) -> str:
        return self._public_jwk(key_id)[0]

    def jwks(self) -> dict[str, Any]:
        return {"keys": [self._public_jwk(key_id)[1] for key_id in self._key_ids]}

    def sign(self, claims: Mapping[str, Any], *, typ: str = "at+jwt") -> str:
        """A JWT of ``claims``: an access token (RFC 9068's ``at+jwt``) unless ``typ`` says
        otherwise (an OpenID Connect ID token is a plain ``JWT``, which no gate accepts)."""
        from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

        active = self._key_ids[0]
        header = {"alg": "ES256", "typ": typ, "kid": self.kid_for(active)}
        signing_input = (
            _b64(json.dumps(header, separators=(",", ":")).encode())
            + "."
            + _b64(json.dumps(dict(claims), separators=(",", ":")).encode())
        )
        der = self._kms.sign(
            KeyId=active,
            # RAW: KMS hashes it (SHA-256); a JWT's signing input is far below the 4 KiB limit.
            Message=signing_input.encode(),
            MessageType="RAW",
            SigningAlgorithm="ECDSA_SHA_256",
        )["Signature"]
        r, s = decode_dss_signature(der)
        return signing_input + "." + _b64(r.to_bytes(32, "big") + s.to_bytes(32, "big"))
