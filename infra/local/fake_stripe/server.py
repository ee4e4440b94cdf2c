"""The fake's HTTP side: Stripe's ``/v1`` routes as the SDK calls them (form-encoded
bodies, ``Authorization: Bearer sk_test_...``, ``Stripe-Account``, ``Idempotency-Key``),
the onboarding page an account link points to, and the test controls under ``/_fake``."""

from __future__ import annotations

import base64
import copy
import html
import itertools
import json
import re
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from infra.local.fake_stripe.model import (
    DEFAULT_CONNECT_SECRET,
    DEFAULT_PLATFORM_SECRET,
    Params,
    StripeError,
    StripeState,
    missing,
    new_id,
    public,
)
from infra.local.fake_stripe.webhooks import Endpoint, Outbox

__all__ = ["DEFAULT_PORT", "FakeStripeServer", "unflatten"]

DEFAULT_PORT = 8420
MAX_BODY = 1024 * 1024


def unflatten(pairs: list[tuple[str, str]]) -> Params:
    """Stripe's form encoding back into a tree: ``metadata[order]=1``, ``expand[0]=x``,
    ``types[]=a``."""
    root: Params = {}
    for key, value in pairs:
        head, _, rest = key.partition("[")
        parts = [head] + (re.findall(r"([^\[\]]*)\]", "[" + rest) if rest else [])
        node: Any = root
        for part, following in itertools.pairwise(parts):
            if not isinstance(node, dict):
                break
            child = node.get(part)
            if not isinstance(child, dict | list):
                child = [] if following == "" else {}
                node[part] = child
            node = child
        last = parts[-1]
        if isinstance(node, list):
            node.append(value)
        elif isinstance(node, dict):
            node[last] = value
    tree: Params = _lists(root)
    return tree


def _lists(value: Any) -> Any:
    if isinstance(value, dict):
        converted = {k: _lists(v) for k, v in value.items()}
        if converted and all(k.isdigit() for k in converted):
            return [converted[k] for k in sorted(converted, key=int)]
        return converted
    if isinstance(value, list):
        return [_lists(v) for v in value]
    return value


def _expand(state: StripeState, obj: Any, account: str | None, paths: list[str]) -> Any:
    """Stripe's ``expand[]``: ids at the given (dotted) paths replaced by their objects."""
    for path in paths:
        head, _, rest = path.partition(".")
        if not isinstance(obj, dict) or head not in obj:
            continue
        value = obj[head]
        if isinstance(value, str) and value in state.objects:
            owner, found = state.objects[value]
            if owner == account or found.get("object") == "application_fee":
                obj[head] = json.loads(json.dumps(found))
        if rest:
            obj[head] = _expand(state, obj[head], account, [rest])
    return obj


@dataclass
class Request:
    method: str
    path: str
    params: Params
    pairs: list[tuple[str, str]]
    headers: dict[str, str]
    base_url: str
    request_id: str

    @property
    def account(self) -> str | None:
        return self.headers.get("stripe-account") or None

    @property
    def idempotency_key(self) -> str | None:
        return self.headers.get("idempotency-key") or None

    def origin(self) -> dict[str, str | None]:
        return {"id": self.request_id, "idempotency_key": self.idempotency_key}


Answer = tuple[int, Any]
Handler = Callable[[StripeState, Request, dict[str, str]], Answer]


def _api_key(headers: dict[str, str]) -> str | None:
    scheme, _, credential = headers.get("authorization", "").partition(" ")
    if scheme.lower() == "basic":
        try:
            credential = base64.b64decode(credential).decode().split(":")[0]
        except ValueError:
            return None
    elif scheme.lower() != "bearer":
        return None
    return credential or None


class FakeStripeServer:
    """The fake on ``host:port`` (0: any free port), serving on a background thread."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        port: int = DEFAULT_PORT,
        *,
        platform_webhook_url: str | None = None,
        connect_webhook_url: str | None = None,
        platform_webhook_secret: str = DEFAULT_PLATFORM_SECRET,
        connect_webhook_secret: str = DEFAULT_CONNECT_SECRET,
        max_attempts: int = 4,
        first_backoff: float = 0.5,
        log: Callable[[str], None] = print,
    ) -> None:
        self.outbox = Outbox(
            {"platform": platform_webhook_secret, "connect": connect_webhook_secret},
            {"platform": platform_webhook_url, "connect": connect_webhook_url},
            max_attempts=max_attempts,
            first_backoff=first_backoff,
            log=log,
        )
        self.state = StripeState(self.outbox)
        self._http = ThreadingHTTPServer((host, port), self._handler_class())
        self._http.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host, port = self._http.server_address[:2]
        return f"http://{host!s}:{port}"

    def start(self) -> FakeStripeServer:
        self._thread = threading.Thread(
            target=self._http.serve_forever, name="fake-stripe", daemon=True
        )
        self._thread.start()
        return self

    def serve_forever(self) -> None:
        self._http.serve_forever()

    def stop(self) -> None:
        self._http.shutdown()
        self._http.server_close()
        self.outbox.stop()

    # -- dispatch ------------------------------------------------------------------------

    def handle(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        """One request: its status, headers and body (a fault of the fake's own is a 500 in
        Stripe's shape, its traceback on stderr)."""
        try:
            return self._route(request)
        except Exception:
            traceback.print_exc()
            error = StripeError(500, "The fake Stripe failed (see its output).", type="api_error")
            return _encode(500, error.body(request.request_id), {"Request-Id": request.request_id})

    def _route(self, request: Request) -> tuple[int, dict[str, str], bytes]:
        headers = {"Request-Id": request.request_id}
        for method, pattern, handler, api in ROUTES:
            if method != request.method:
                continue
            matched = pattern.fullmatch(request.path)
            if matched is None:
                continue
            with self.state.lock:
                try:
                    if api:
                        return self._api(handler, request, matched.groupdict(), headers)
                    status, body = handler(self.state, request, matched.groupdict())
                except StripeError as error:
                    status, body = error.status, error.body(request.request_id)
            return _encode(status, body, headers)
        unknown = StripeError(
            404,
            f"Unrecognized request URL ({request.method}: {request.path}).",
            code="resource_missing" if request.path.startswith("/v1/") else None,
        )
        return _encode(404, unknown.body(request.request_id), headers)

    def _api(
        self,
        handler: Handler,
        request: Request,
        args: dict[str, str],
        headers: dict[str, str],
    ) -> tuple[int, dict[str, str], bytes]:
        key = _api_key(request.headers)
        if key is None or not key.startswith("sk_test_"):
            detail = (
                "This fake accepts test secret keys only (sk_test_...)."
                if key
                else "You did not provide an API key. You need to provide your API key in the "
                "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
                "YOUR_SECRET_KEY')."
            )
            return _encode(401, StripeError(401, detail).body(request.request_id), headers)
        self.state.check_account(request.account)
        idempotency_key = request.idempotency_key if request.method == "POST" else None
        fingerprint = ""
        if idempotency_key:
            fingerprint = self.state.fingerprint(request.method, request.path, request.pairs)
            stored = self.state.replay(request.account, idempotency_key, fingerprint)
            if stored is not None:
                headers.update({"Idempotency-Key": idempotency_key, "Idempotent-Replayed": "true"})
                return stored[0], headers | {"Content-Type": "application/json"}, stored[1].encode()
        try:
            status, body = handler(self.state, request, args)
            expand = request.params.get("expand")
            if isinstance(expand, list) and status == 200:
                paths = [str(p) for p in expand]
                body = _expand(self.state, copy.deepcopy(body), request.account, paths)
        except StripeError as error:
            status, body = error.status, error.body(request.request_id)
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        encoded = _encode(status, body, headers)
        if idempotency_key and status < 500:
            self.state.remember(
                request.account, idempotency_key, fingerprint, status, encoded[2].decode()
            )
        return encoded

    def _handler_class(self) -> type[BaseHTTPRequestHandler]:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _serve(self) -> None:
                length = int(self.headers.get("content-length") or 0)
                if length > MAX_BODY:
                    self.send_error(413)
                    return
                raw = self.rfile.read(length).decode("utf-8", "replace") if length else ""
                split = urlsplit(self.path)
                headers = {k.lower(): v for k, v in self.headers.items()}
                pairs = parse_qsl(split.query, keep_blank_values=True)
                params: Params
                if raw and headers.get("content-type", "").startswith("application/json"):
                    try:
                        loaded = json.loads(raw)
                    except ValueError:
                        loaded = None
                    params = loaded if isinstance(loaded, dict) else {}
                else:
                    pairs += parse_qsl(raw, keep_blank_values=True)
                    params = unflatten(pairs)
                host = headers.get("host") or fake.url.removeprefix("http://")
                request = Request(
                    method=self.command,
                    path=split.path.rstrip("/") or "/",
                    params=params,
                    pairs=pairs,
                    headers=headers,
                    base_url=f"http://{host}",
                    request_id=new_id("req_", 14),
                )
                status, response_headers, body = fake.handle(request)
                self.send_response(status)
                for name, value in response_headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = do_DELETE = _serve  # noqa: N815

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


def _encode(status: int, body: Any, headers: dict[str, str]) -> tuple[int, dict[str, str], bytes]:
    if isinstance(body, _Html):
        return status, headers | body.headers | {"Content-Type": "text/html"}, body.text.encode()
    return (
        status,
        headers | {"Content-Type": "application/json"},
        (json.dumps(public(body), indent=2) + "\n").encode(),
    )


@dataclass
class _Html:
    text: str
    headers: dict[str, str]


# -- the /v1 routes ----------------------------------------------------------------------


def _create_account(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    if r.account:
        raise StripeError(400, "A connected account cannot create accounts.")
    return 200, state.create_account(r.params, r.origin())


def _retrieve_account(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    return 200, state.retrieve_account(a.get("id"), r.account)


def _update_account(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    return 200, state.update_account(a["id"], r.params, r.origin())


def _list_accounts(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    accounts = sorted(state.accounts.values(), key=lambda x: -x["created"])
    return 200, state.page("/v1/accounts", accounts, _without(r.params, "expand"))


def _create_link(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, state.create_account_link(r.params, r.base_url)


def _create_intent(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, state.create_payment_intent(r.account, _without(r.params, "expand"), r.origin())


def _retrieve(kind: str) -> Handler:
    def retrieve(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
        return 200, state.get(kind, a["id"], r.account)

    return retrieve


def _update_intent(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    params = _without(r.params, "expand")
    return 200, state.update_payment_intent(r.account, a["id"], params, r.origin())


def _confirm_intent(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    return 200, state.confirm(r.account, a["id"], _without(r.params, "expand"), r.origin())


def _cancel_intent(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    return 200, state.cancel(r.account, a["id"], _without(r.params, "expand"), r.origin())


def _create_refund(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, state.create_refund(r.account, _without(r.params, "expand"), r.origin())


def _list_refunds(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, state.list_refunds(r.account, _without(r.params, "expand"))


def _list_events(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, state.list_events(r.account, _without(r.params, "expand"))


def _without(params: Params, *names: str) -> Params:
    return {k: v for k, v in params.items() if k not in names}


# -- the onboarding page and the test controls --------------------------------------------


def _onboarding(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    """An account link visited (GET: a page that says so; POST: a form's redirect)."""
    completed, next_url, account = state.follow_link(a["token"])
    if r.method == "POST":
        return 303, _Html("", {"Location": next_url})
    title = "Onboarding complete" if completed else "This link has expired or was used"
    detail = (
        f"Account {html.escape(account['id'])} can now take payments."
        if account
        else "Ask the platform for a new link."
    )
    page = (
        f"<!doctype html><title>{title}</title><h1>{title}</h1><p>{detail}</p>"
        f'<p><a href="{html.escape(next_url)}">Back to the platform</a></p>'
    )
    return 200, _Html(page, {})


def _deliveries(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    after = str(r.params.get("after") or "0")
    return 200, state.outbox.after(int(after) if after.isdigit() else 0)


def _webhooks(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    changes: dict[Endpoint, str | None] = {}
    names: tuple[tuple[Endpoint, str], ...] = (
        ("platform", "platform_url"),
        ("platform", "platform_webhook_url"),
        ("connect", "connect_url"),
        ("connect", "connect_webhook_url"),
    )
    for endpoint, name in names:
        if name in r.params:
            value = r.params[name]
            if value is not None and not (
                isinstance(value, str) and value.startswith(("http://", "https://"))
            ):
                raise StripeError(400, f"{name} must be an http(s) URL or null", param=name)
            changes[endpoint] = value or None
    state.outbox.configure(changes)
    return 200, {
        "platform_url": state.outbox.urls.get("platform"),
        "connect_url": state.outbox.urls.get("connect"),
    }


def _pay(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    card = r.params.get("card") or "visa"
    return 200, state.pay(a["id"], str(card))


def _complete(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    return 200, state.complete_onboarding(a["id"])


def _resend(state: StripeState, r: Request, a: dict[str, str]) -> Answer:
    found = state.objects.get(a["id"])
    if found is None or found[1].get("object") != "event":
        raise missing("event", a["id"])
    return 200, state.outbox.add(found[1]).export()


def _reset(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    state.reset()
    state.outbox.reset()
    return 200, {"reset": True}


def _health(state: StripeState, r: Request, _: dict[str, str]) -> Answer:
    return 200, {"ok": True}


_ID = r"(?P<id>[A-Za-z0-9_]+)"
ROUTES: list[tuple[str, re.Pattern[str], Handler, bool]] = [
    (method, re.compile(path), handler, path.startswith("/v1"))
    for method, path, handler in [
        ("POST", "/v1/accounts", _create_account),
        ("GET", "/v1/accounts", _list_accounts),
        ("GET", "/v1/account", _retrieve_account),
        ("GET", f"/v1/accounts/{_ID}", _retrieve_account),
        ("POST", f"/v1/accounts/{_ID}", _update_account),
        ("POST", "/v1/account_links", _create_link),
        ("POST", "/v1/payment_intents", _create_intent),
        ("GET", f"/v1/payment_intents/{_ID}", _retrieve("payment_intent")),
        ("POST", f"/v1/payment_intents/{_ID}", _update_intent),
        ("POST", f"/v1/payment_intents/{_ID}/confirm", _confirm_intent),
        ("POST", f"/v1/payment_intents/{_ID}/cancel", _cancel_intent),
        ("GET", f"/v1/payment_methods/{_ID}", _retrieve("payment_method")),
        ("GET", f"/v1/charges/{_ID}", _retrieve("charge")),
        ("POST", "/v1/refunds", _create_refund),
        ("GET", "/v1/refunds", _list_refunds),
        ("GET", f"/v1/refunds/{_ID}", _retrieve("refund")),
        ("GET", f"/v1/application_fees/{_ID}", _retrieve("application_fee")),
        ("GET", "/v1/events", _list_events),
        ("GET", f"/v1/events/{_ID}", _retrieve("event")),
        ("GET", r"/_fake/onboarding/(?P<token>[A-Za-z0-9]+)", _onboarding),
        ("POST", r"/_fake/onboarding/(?P<token>[A-Za-z0-9]+)", _onboarding),
        ("GET", "/_fake/deliveries", _deliveries),
        ("POST", "/_fake/webhooks", _webhooks),
        ("POST", f"/_fake/payment_intents/{_ID}/pay", _pay),
        ("POST", f"/_fake/accounts/{_ID}/complete_onboarding", _complete),
        ("POST", f"/_fake/events/{_ID}/resend", _resend),
        ("POST", "/_fake/reset", _reset),
        ("GET", "/_fake/health", _health),
    ]
]
