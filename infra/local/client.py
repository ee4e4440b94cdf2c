"""An in-process HTTP-shaped client of the local gateway, for tests and benchmarks."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from infra.local.gateway import LocalGateway
from infra.local.keys import SigningKey


@dataclass
class Response:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class ApiClient:
    gateway: LocalGateway
    key: SigningKey
    issuer: str
    audience: str
    #: Starts a sign-in session for a user: (session id, how they signed in). Tokens minted
    #: here name a real session, as the issuer's do, so the gate's session check applies.
    start_session: Callable[[uuid.UUID], tuple[uuid.UUID, list[str]]]
    _tokens: dict[uuid.UUID, str] = field(default_factory=dict)

    def token_for(self, user_id: uuid.UUID) -> str:
        if user_id not in self._tokens:
            self._tokens[user_id] = self.fresh_token(user_id)
        return self._tokens[user_id]

    def fresh_token(self, user_id: uuid.UUID, **claims: Any) -> str:
        """A token of a new session of ``user_id`` (``claims`` override the defaults)."""
        session_id, amr = self.start_session(user_id)
        return self.key.access_token(
            user_id,
            issuer=self.issuer,
            audience=self.audience,
            **{"sid": str(session_id), "amr": amr, **claims},
        )

    def request(
        self,
        method: str,
        path: str,
        *,
        as_user: uuid.UUID | None = None,
        token: str | None = None,
        json_body: Any = None,
        body: bytes | None = None,
        query: dict[str, str] | None = None,
        headers: dict[str, str] | None = None,
        source_ip: str = "127.0.0.1",
    ) -> Response:
        sent = {"user-agent": "tests", **(headers or {})}
        if as_user is not None:
            token = self.token_for(as_user)
        if token is not None:
            sent["authorization"] = f"Bearer {token}"
        if json_body is not None:
            body = json.dumps(json_body).encode()
            sent.setdefault("content-type", "application/json")
        target = path + (f"?{urlencode(query)}" if query else "")
        status, response_headers, data = self.gateway.handle(
            method, target, sent, body or b"", source_ip=source_ip
        )
        return Response(status, {k.lower(): v for k, v in response_headers.items()}, data)

    def get(self, path: str, **kwargs: Any) -> Response:
        return self.request("GET", path, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> Response:
        return self.request("PATCH", path, **kwargs)
