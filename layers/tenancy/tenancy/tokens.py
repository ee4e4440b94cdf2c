"""Verification of the platform's access tokens (RFC 9068 JWTs signed ES256).

API Gateway's JWT authorizer checks tokens first; the gate checks them again here so a
function invoked around the API still refuses a forged or expired token.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from tenancy.problems import unauthenticated

__all__ = [
    "ACCESS_TOKEN_TYP",
    "TILL_DEVICE_SCOPE",
    "TILL_SESSION_SCOPE",
    "Identity",
    "JwksKeySource",
    "KeySource",
    "StaticKeySource",
    "TillSession",
    "TokenVerifier",
    "bearer_token",
]

ACCESS_TOKEN_TYP = "at+jwt"  # noqa: S105 - a media type, not a secret
ALGORITHMS = ["ES256"]
#: An encoded JOSE header longer than this is refused before it is parsed (ours is ~110).
MAX_HEADER_CHARS = 1024


#: A till's device token (client credentials): it opens the PIN route and nothing else.
TILL_DEVICE_SCOPE = "till"
#: A till session's token (a staff PIN entered on a till): venue routes declared ``till=True``.
TILL_SESSION_SCOPE = "till-session"


@dataclass(frozen=True)
class TillSession:
    """What a till session's token names besides its session (``sid``) and device."""

    venue_id: uuid.UUID
    staff_member_id: uuid.UUID


@dataclass(frozen=True)
class Identity:
    """Who is asking, as the verified token says. Nothing else is trusted for identity.

    A person's token names their account (``user_id``). A till's names none: its device
    token is the device (``client_id``) alone, and a till session's token adds the till
    session (``session_id``), its venue and its staff member (``till_session``)."""

    user_id: uuid.UUID | None
    token_id: str
    client_id: str
    scopes: frozenset[str] = field(default_factory=frozenset)
    #: The sign-in session (refresh-token family) the token was issued in, if any; for a
    #: till session's token, the till session.
    session_id: uuid.UUID | None = None
    #: How the person signed in (RFC 8176 method names: "pwd", "otp", ...).
    amr: frozenset[str] = field(default_factory=frozenset)
    till_session: TillSession | None = None

    @property
    def is_till_device(self) -> bool:
        return self.user_id is None and self.till_session is None


class KeySource(Protocol):
    def key_for(self, kid: str) -> Any | None:
        """The public key published under ``kid``, or None when there is none."""


def _keys_from_jwks(document: Mapping[str, Any]) -> dict[str, Any]:
    import jwt

    keys: dict[str, Any] = {}
    for entry in document.get("keys", []):
        if entry.get("kid") and entry.get("kty") == "EC" and entry.get("use", "sig") == "sig":
            keys[entry["kid"]] = jwt.PyJWK(entry, algorithm="ES256").key
    return keys


class StaticKeySource:
    """Keys given up front (tests, the local gateway)."""

    def __init__(self, jwks: Mapping[str, Any]) -> None:
        self._keys = _keys_from_jwks(jwks)

    def key_for(self, kid: str) -> Any | None:
        return self._keys.get(kid)


class JwksKeySource:
    """The issuer's JWKS, cached; an unknown ``kid`` triggers at most one refresh per
    ``min_refresh_seconds`` so keys can rotate without a deploy or a refresh storm."""

    def __init__(
        self,
        url: str,
        *,
        cache_seconds: int = 300,
        min_refresh_seconds: int = 30,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if not url.startswith(("https://", "http://127.0.0.1", "http://localhost", "file://")):
            raise ValueError("JWKS must be served over https (or a local file in development)")
        self._url = url
        self._cache_seconds = cache_seconds
        self._min_refresh_seconds = min_refresh_seconds
        self._clock = clock
        self._keys: dict[str, Any] = {}
        self._fetched_at: float | None = None
        self._lock = threading.Lock()

    def _refresh(self) -> None:
        # Imported here: urllib.request brings http.client, email and ssl (~20 ms of a cold
        # start), needed only when the JWKS is fetched, not by every import of the gate.
        import urllib.request

        with urllib.request.urlopen(self._url, timeout=3) as response:  # noqa: S310 # nosec B310 (scheme checked)
            self._keys = _keys_from_jwks(json.load(response))
        self._fetched_at = self._clock()

    def key_for(self, kid: str) -> Any | None:
        with self._lock:
            now = self._clock()
            age = None if self._fetched_at is None else now - self._fetched_at
            stale = age is None or age > self._cache_seconds
            unknown_may_refresh = kid not in self._keys and (
                age is None or age > self._min_refresh_seconds
            )
            if stale or unknown_may_refresh:
                try:
                    self._refresh()
                except OSError:
                    if not self._keys:
                        raise
            return self._keys.get(kid)


class TokenVerifier:
    """Checks access tokens; a token already verified in this execution environment is
    remembered (by its SHA-256) until the earlier of its ``exp`` and ``cache_seconds``.

    Only the signature and claim checks are cached: the account, its attachments and its
    session are read from Postgres on every request.
    """

    def __init__(
        self,
        *,
        issuer: str,
        audience: str,
        keys: KeySource,
        cache_seconds: float = 60,
        cache_size: int = 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._issuer = issuer
        self._audience = audience
        self._keys = keys
        self._cache_seconds = cache_seconds
        self._cache_size = cache_size
        self._clock = clock
        self._verified: OrderedDict[bytes, tuple[float, Identity]] = OrderedDict()
        self._lock = threading.Lock()

    def verify(self, token: str) -> Identity:
        """The identity in ``token``; a 401 problem when anything about it is off."""
        key = hashlib.sha256(token.encode("utf-8", "surrogatepass")).digest()
        now = self._clock()
        with self._lock:
            cached = self._verified.get(key)
            if cached is not None and now < cached[0]:
                self._verified.move_to_end(key)
                return cached[1]
            self._verified.pop(key, None)
        identity, expires_at = self._verify(token)
        with self._lock:
            self._verified[key] = (min(expires_at, now + self._cache_seconds), identity)
            while len(self._verified) > self._cache_size:
                self._verified.popitem(last=False)
        return identity

    def _verify(self, token: str) -> tuple[Identity, float]:
        # Imported here, not at module import: public routes never verify a token, and
        # PyJWT brings cryptography's whole X.509 stack (~35 ms of cold start).
        import jwt

        header = _unverified_header(token)
        if header.get("alg") not in ALGORITHMS:
            raise unauthenticated("the access token's algorithm is not accepted")
        if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYP, "application/at+jwt"):
            raise unauthenticated("the token is not an access token")
        kid = header.get("kid")
        key = self._keys.key_for(kid) if isinstance(kid, str) else None
        if key is None:
            raise unauthenticated("the access token's signing key is unknown")
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=ALGORITHMS,
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "jti"]},
            )
        except jwt.ExpiredSignatureError:
            raise unauthenticated("the access token has expired") from None
        except jwt.PyJWTError:
            raise unauthenticated("the access token is not valid") from None
        return _identity(claims), float(claims["exp"])


def _unverified_header(token: str) -> Mapping[str, Any]:
    """The JOSE header, read only to pick the key; the signature check covers it afterwards.
    (Cheaper than PyJWT's own reader, which validates the whole token a second time.)"""
    encoded = token.split(".", 1)[0]
    if len(encoded) > MAX_HEADER_CHARS:
        raise unauthenticated("the access token is malformed")
    try:
        header = json.loads(base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)))
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise unauthenticated("the access token is malformed") from None
    if not isinstance(header, dict) or token.count(".") != 2:
        raise unauthenticated("the access token is malformed")
    return header


def _uuid_claim(claims: Mapping[str, Any], name: str, what: str) -> uuid.UUID:
    try:
        return uuid.UUID(str(claims[name]))
    except (KeyError, ValueError):
        raise unauthenticated(f"the access token's {what} is not valid") from None


def _till_identity(claims: Mapping[str, Any], scopes: frozenset[str]) -> Identity:
    """A till's token: its device token (``till``, no session), or a till session's
    (``till-session`` with ``sid``, ``venue`` and ``staff``); never both, never mixed with a
    person's scopes."""
    client_id = claims.get("client_id")
    if not isinstance(client_id, str) or not client_id:
        raise unauthenticated("the access token's client is not valid")
    token_id = str(claims["jti"])
    if scopes == {TILL_DEVICE_SCOPE}:
        if claims["sub"] != client_id or "sid" in claims:
            raise unauthenticated("the till's token is not valid")
        return Identity(user_id=None, token_id=token_id, client_id=client_id, scopes=scopes)
    if scopes == {TILL_SESSION_SCOPE}:
        staff = _uuid_claim(claims, "staff", "staff member")
        if str(claims["sub"]) != str(staff):
            raise unauthenticated("the till session's token is not valid")
        return Identity(
            user_id=None,
            token_id=token_id,
            client_id=client_id,
            scopes=scopes,
            session_id=_uuid_claim(claims, "sid", "session"),
            till_session=TillSession(_uuid_claim(claims, "venue", "venue"), staff),
        )
    raise unauthenticated("the access token's scope is not valid")


def _identity(claims: Mapping[str, Any]) -> Identity:
    scope = claims.get("scope", "")
    if not isinstance(scope, str):
        raise unauthenticated("the access token's scope is not valid")
    scopes = frozenset(scope.split())
    if scopes & {TILL_DEVICE_SCOPE, TILL_SESSION_SCOPE}:
        return _till_identity(claims, scopes)
    try:
        user_id = uuid.UUID(str(claims["sub"]))
    except ValueError:
        raise unauthenticated("the access token's subject is not valid") from None
    try:
        session_id = uuid.UUID(str(claims["sid"])) if "sid" in claims else None
    except ValueError:
        raise unauthenticated("the access token's session is not valid") from None
    amr = claims.get("amr", [])
    if not isinstance(amr, list) or not all(isinstance(method, str) for method in amr):
        raise unauthenticated("the access token's amr is not valid")
    return Identity(
        session_id=session_id,
        amr=frozenset(amr),
        user_id=user_id,
        token_id=str(claims["jti"]),
        client_id=str(claims.get("client_id", "")),
        scopes=scopes,
    )


def bearer_token(headers: Mapping[str, str]) -> str:
    """The token of an ``Authorization: Bearer`` header (header names are lower-case in v2)."""
    value = headers.get("authorization", "")
    scheme, _, token = value.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise unauthenticated()
    return token.strip()
