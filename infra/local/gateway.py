"""A local stand-in for API Gateway (HTTP API): routes from template.yaml, the JWT
authorizer's checks, API Gateway v2 events, and the handlers invoked in-process."""

from __future__ import annotations

import base64
import importlib
import json
import threading
import uuid
from collections.abc import Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, unquote, urlsplit

import jwt

from infra.local import apidocs
from infra.template import TEMPLATE, load_template, template_routes
from tenancy.gate import Route
from tenancy.runtime import Runtime
from tenancy.tokens import KeySource

MAX_PAYLOAD = 10 * 1024 * 1024  # API Gateway's own limit


class LocalGateway:
    def __init__(
        self,
        runtime: Runtime,
        *,
        keys: KeySource,
        issuer: str,
        audience: str,
        template: Path = TEMPLATE,
    ) -> None:
        self.runtime = runtime
        self.routes = template_routes(load_template(template))
        self._keys = keys
        self._issuer = issuer
        self._audience = audience
        self._handlers: dict[str, Any] = {}

    def _handler(self, dotted: str) -> Any:
        if dotted not in self._handlers:
            module_name, _, attribute = dotted.rpartition(".")
            self._handlers[dotted] = getattr(importlib.import_module(module_name), attribute)
        return self._handlers[dotted]

    def _authorize(self, headers: Mapping[str, str]) -> dict[str, Any] | None:
        """API Gateway's JWT authorizer: signature by JWKS, iss, aud, exp, nbf."""
        scheme, _, token = headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return None
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.key_for(kid) if isinstance(kid, str) else None
            if key is None:
                return None
            claims: dict[str, Any] = jwt.decode(
                token,
                key,
                algorithms=["ES256", "RS256"],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": ["exp", "iss"]},
            )
        except jwt.PyJWTError:
            return None
        return claims

    def refuse(
        self,
        status: int,
        message: str,
        *,
        method: str,
        path: str,
        request_id: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> tuple[int, dict[str, str], bytes]:
        """API Gateway's own refusal, before any function runs. It writes the request's one
        log line, as the gate does for the requests that reach a function."""
        self.runtime.log.bind(
            correlation_id=request_id or str(uuid.uuid4()), method=method, path=path
        ).info("refused by the gateway", status=status)
        body = json.dumps({"message": message}, separators=(",", ":")).encode()
        return status, {"content-type": "application/json", **(headers or {})}, body

    def handle(
        self,
        method: str,
        target: str,
        headers: Mapping[str, str],
        body: bytes,
        source_ip: str = "127.0.0.1",
    ) -> tuple[int, dict[str, str], bytes]:
        """One HTTP request in, one HTTP response out (status, headers, body)."""
        request_id = str(uuid.uuid4())
        url = urlsplit(target)
        path = unquote(url.path)
        if apidocs.serves(method, path):
            # Locally only: the API's document and its interactive page (infra/local/apidocs.py).
            return apidocs.answer(path)
        lowered: dict[str, str] = {}
        for name, value in headers.items():
            key = name.lower()
            lowered[key] = f"{lowered[key]},{value}" if key in lowered else value
        matches = [(r, r.pattern.match(path)) for r in self.routes]
        matching = [(r, m) for r, m in matches if m]
        chosen = next(((r, m) for r, m in matching if r.method == method.upper()), None)
        if chosen is None:
            return self.refuse(
                404, "Not Found", method=method, path=url.path, request_id=request_id
            )
        route, match = chosen
        claims: dict[str, Any] = {}
        if route.authorized:
            verified = self._authorize(lowered)
            if verified is None:
                return self.refuse(
                    401,
                    "Unauthorized",
                    method=method,
                    path=url.path,
                    request_id=request_id,
                    headers={"www-authenticate": "Bearer"},
                )
            claims = verified
        query: dict[str, str] = {}
        for name, value in parse_qsl(url.query, keep_blank_values=True):
            query[name] = f"{query[name]},{value}" if name in query else value
        try:
            text: str | None = body.decode("utf-8") if body else None
            is_base64 = False
        except UnicodeDecodeError:
            text, is_base64 = base64.b64encode(body).decode(), True
        # As API Gateway does: cookies leave the headers for a list of their own.
        cookie_header = lowered.pop("cookie", "")
        cookies = [c.strip() for c in cookie_header.split(";") if c.strip()]
        event: dict[str, Any] = {
            "version": "2.0",
            "routeKey": f"{route.method} {route.path}",
            "rawPath": url.path,
            "rawQueryString": url.query,
            "headers": lowered,
            "queryStringParameters": query or None,
            "pathParameters": match.groupdict() or None,
            "requestContext": {
                "http": {
                    "method": method.upper(),
                    "path": url.path,
                    "protocol": "HTTP/1.1",
                    "sourceIp": source_ip,
                    "userAgent": lowered.get("user-agent", ""),
                },
                "requestId": request_id,
                "routeKey": f"{route.method} {route.path}",
                "stage": "$default",
                "authorizer": {"jwt": {"claims": claims, "scopes": None}} if claims else None,
            },
            "body": text,
            "isBase64Encoded": is_base64,
        }
        if cookies:
            event["cookies"] = cookies
        handler = self._handler(route.handler)
        if isinstance(handler, Route):
            result = handler.invoke(event, self.runtime)
        else:
            result = handler(event, None)
        payload = result.get("body") or ""
        data = base64.b64decode(payload) if result.get("isBase64Encoded") else payload.encode()
        response_headers = dict(result.get("headers") or {})
        if result.get("cookies"):
            # One Set-Cookie line each (``serve`` splits them again): values hold no newline.
            response_headers["set-cookie"] = "\n".join(result["cookies"])
        return int(result["statusCode"]), response_headers, data


def serve(gateway: LocalGateway, host: str, port: int) -> ThreadingHTTPServer:
    """An HTTP server in front of ``gateway``, serving on a background thread."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_PAYLOAD:
                status, headers, body = gateway.refuse(
                    413,
                    "Request Entity Too Large",
                    method=self.command,
                    path=urlsplit(self.path).path,
                )
                self.close_connection = True
            else:
                raw = self.rfile.read(length) if length else b""
                status, headers, body = gateway.handle(
                    self.command,
                    self.path,
                    dict(self.headers.items()),
                    raw,
                    source_ip=self.client_address[0],
                )
            self.send_response(status)
            for name, value in headers.items():
                for line in value.split("\n") if name.lower() == "set-cookie" else [value]:
                    self.send_header(name, line)
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PATCH = do_PUT = do_DELETE = _serve  # noqa: N815

        def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
            """Silent: every request already has its one line, written by the gate or, for
            the requests it refuses itself, by the gateway."""

        def log_error(self, format: str, *args: Any) -> None:
            # Requests too malformed to reach the gateway (bad request line, timeouts).
            gateway.runtime.log.warning("refused by the HTTP server", detail=format % args)

    class Server(ThreadingHTTPServer):
        # socketserver's backlog is 5: callers connecting at once beyond it were reset.
        request_queue_size = 1024

    server = Server((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="gateway", daemon=True).start()
    return server
