"""Database round trips of every declared route, counted on the wire.

Every route that ``tenancy.catalogue.discover`` finds is called with a valid request through
``Route.invoke`` on connections that go through the counting proxy (bench/wire.py): the venue
role's and the issuer role's. What a request needs beforehand (a one-time code, an MFA
challenge, a refresh token, a TOTP enrolment) is made by a helper runtime whose connections
go around the proxy, and by admin SQL where the state must be reset (a TOTP step already
used, an enrolment to start again); none of it is counted. The issuer's routes run with the
local issuer (moto's KMS, in-process).

With ``track_functions = 'pl'`` on the counted connections, Postgres also counts the calls of
``app.binding_allows`` each request makes (``pg_stat_user_functions``, flushed on demand
with ``pg_stat_force_next_flush()``, Postgres 15 and later).
"""

from __future__ import annotations

import base64
import contextlib
import itertools
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, urlencode

import psycopg
from psycopg import sql

from bench.gate_cost import GateBench
from bench.stack import ACCOUNT_USER, api_event, one_trip
from bench.wire import CountingProxy, Turn
from infra.local.seed import (
    CENTRALE,
    DEMO_PASSWORD,
    SPA_CLIENT_ID,
    TILL_CLIENT_ID,
    TILL_CLIENT_SECRET,
    USER,
    menu_item_id,
)
from infra.local.signin import (
    AUTHORIZE_MFA,
    Answer,
    Browser,
    SignInRefused,
    authorization_query,
    code_exchange,
    demo_totp_code,
    forms,
    redirect_params,
    sign_in,
)
from infra.local.signin import new_verifier as new_pkce_verifier
from tenancy.db import GateConnection, connect
from tenancy.invitations import Invitations
from tenancy.runtime import Runtime

__all__ = ["CHECK", "TARGETS", "TripCount", "count_every_route"]

#: Round-trip targets by route key; routes not named here are reported without one.
TARGETS = {
    "GET /.well-known/jwks.json": 0,
    "GET /.well-known/openid-configuration": 0,
    "GET /me": 1,
    "GET /me/venues": 1,
    "GET /venues/{venue_id}": 1,
    "GET /venues/{venue_id}/orders": 1,
    "PATCH /venues/{venue_id}/menu/items/{item_id}": 2,
}
#: The counter's own check: the bare query alone must be one round trip.
CHECK = "check: bare SQL alone"
_FORM = "application/x-www-form-urlencoded"
#: The bench account's passwords, in turn (the non-privileged policy; in no breach list).
_PASSWORDS = (DEMO_PASSWORD, "Bench rotation, second of two")


@dataclass(frozen=True)
class TripCount:
    label: str
    route_key: str
    turns: list[Turn]
    #: The count was the same in every captured request.
    stable: bool
    target: int | None
    #: Calls of app.binding_allows in the last captured request (None: not counted).
    binding_calls: int | None


@dataclass(frozen=True)
class _Call:
    label: str
    route_key: str
    #: One valid request's event, made fresh for each call.
    event: Callable[[], dict[str, Any]]


class _Requests:
    """Valid requests for every route, and what each needs made beforehand."""

    def __init__(self, bench: GateBench, helper: Runtime, admin: psycopg.Connection) -> None:
        self.bench = bench
        self.helper = helper
        self.admin = admin
        self.sara = bench.sara
        self.account = bench.caller(ACCOUNT_USER.id)
        self.prices = itertools.count(701)
        self.passwords = itertools.cycle(_PASSWORDS)
        self.password = next(self.passwords)

    def event(
        self,
        route_key: str,
        token: str | None = None,
        *,
        path: dict[str, str] | None = None,
        json_body: dict[str, Any] | None = None,
        form: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        method, _, template = route_key.partition(" ")
        if form is not None:
            return api_event(
                method, template, path or {}, token, body=urlencode(form), content_type=_FORM
            )
        body = None if json_body is None else json.dumps(json_body)
        return api_event(method, template, path or {}, token, body=body)

    def _helped(self, event: dict[str, Any]) -> dict[str, Any]:
        """A request served around the proxy (not counted); its JSON answer."""
        route = self.bench.routes[event["routeKey"]]
        answer: dict[str, Any] = json.loads(self.bench.served(self.helper, route, event)["body"])
        return answer

    def _browser_event(
        self, method: str, target: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> dict[str, Any]:
        """The event of a browser's request to a page: its query, cookies and form."""
        path, _, query = target.partition("?")
        content_type = headers.get("content-type", _FORM)
        event = api_event(
            method, path, {}, None, body=body.decode() or None, content_type=content_type
        )
        event["headers"].update({name.lower(): value for name, value in headers.items()})
        event["rawQueryString"] = query
        if query:
            event["queryStringParameters"] = dict(parse_qsl(query))
        if "cookie" in event["headers"]:
            event["cookies"] = [c.strip() for c in event["headers"]["cookie"].split(";")]
        return event

    def _send(
        self, method: str, target: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        """infra.local.signin's transport, served by the helper runtime (not counted)."""
        event = self._browser_event(method, target, headers=headers, body=body)
        response = self.bench.routes[event["routeKey"]].invoke(event, self.helper)
        answered = {name.lower(): str(v) for name, v in (response.get("headers") or {}).items()}
        if response.get("cookies"):
            answered["set-cookie"] = "\n".join(response["cookies"])
        data = response.get("body") or ""
        raw = base64.b64decode(data) if response.get("isBase64Encoded") else data.encode()
        return Answer(int(response["statusCode"]), answered, raw)

    def _form_event(
        self, browser: Browser, page: Answer, values: Mapping[str, str], action: str | None = None
    ) -> dict[str, Any]:
        """The event of ``browser`` posting the page's form (as Browser.submit would)."""
        for form in forms(page.text):
            if (action is None and set(values) <= set(form.fields)) or form.action == action:
                headers = {
                    "content-type": _FORM,
                    "cookie": "; ".join(f"{k}={v}" for k, v in browser.cookies.items()),
                }
                body = urlencode({**form.fields, **values}).encode()
                return self._browser_event("POST", form.action, headers=headers, body=body)
        raise SignInRefused(f"no form for {sorted(values)} on the page ({page.status})")

    def _sign_in_page(self, verifier: str) -> tuple[Browser, Answer]:
        browser = Browser(self._send)
        page = browser.get(authorization_query(verifier, state="bench"))
        if page.status != 200:
            raise SignInRefused(f"GET /oauth/authorize: {page.status} {page.text[:200]}")
        return browser, page

    def _page_request(self) -> dict[str, Any]:
        target = authorization_query(new_pkce_verifier(), state="bench")
        return self._browser_event("GET", target, headers={"user-agent": "bench"})

    def _password_form(self, email: str) -> dict[str, Any]:
        browser, page = self._sign_in_page(new_pkce_verifier())
        return self._form_event(browser, page, {"email": email, "password": DEMO_PASSWORD})

    def _reset_totp(self, user_id: Any) -> None:
        self.admin.execute("DELETE FROM mfa_recovery_codes WHERE user_id = %s", (user_id,))
        self.admin.execute("DELETE FROM user_totp WHERE user_id = %s", (user_id,))

    def _forget_used_step(self, user_id: Any) -> None:
        """Lets the current TOTP code be used again (each code works once)."""
        self.admin.execute(
            "UPDATE user_totp SET last_used_step = NULL WHERE user_id = %s", (user_id,)
        )

    def _enrolled(self, *, confirmed: bool) -> str:
        """The bench account's TOTP secret, enrolment started anew (and confirmed)."""
        import pyotp

        self._reset_totp(ACCOUNT_USER.id)
        token = self.account.token
        secret = str(self._helped(self.event("POST /me/mfa/totp", token))["secret"])
        if confirmed:
            code = pyotp.TOTP(secret).now()
            self._helped(self.event("POST /me/mfa/totp/confirm", token, json_body={"code": code}))
            self._forget_used_step(ACCOUNT_USER.id)
        return secret

    def _enrolment(self) -> dict[str, Any]:
        self._reset_totp(ACCOUNT_USER.id)
        return self.event("POST /me/mfa/totp", self.account.token)

    def _totp_now(self, secret: str) -> str:
        import pyotp

        return str(pyotp.TOTP(secret).now())

    def _password_change(self) -> dict[str, Any]:
        current, self.password = self.password, next(self.passwords)
        body = {"current_password": current, "new_password": self.password}
        return self.event("POST /me/password", self.account.token, json_body=body)

    def _mfa_answer(self) -> dict[str, Any]:
        admin = USER["platform_admin"]
        browser, page = self._sign_in_page(new_pkce_verifier())
        challenge = browser.submit(page, {"email": admin.email, "password": DEMO_PASSWORD})
        self._forget_used_step(admin.id)
        return self._form_event(browser, challenge, {"code": demo_totp_code()}, AUTHORIZE_MFA)

    def _code_exchange(self) -> dict[str, Any]:
        verifier = new_pkce_verifier()
        browser, page = self._sign_in_page(verifier)
        answer = browser.submit(page, {"email": USER["waiter"].email, "password": DEMO_PASSWORD})
        code = redirect_params(answer)["code"]
        return self.event("POST /oauth/token", form=code_exchange(code, verifier))

    def _refresh_token(self) -> str:
        return str(sign_in(self._send, USER["waiter"].email)["refresh_token"])

    def calls(self) -> dict[str, list[_Call]]:
        """The calls of each route key: one, or one per path through the route."""
        sara, account = self.sara.token, self.account.token
        centrale = {"venue_id": str(CENTRALE)}
        tiramisu = {**centrale, "item_id": str(menu_item_id("Tiramisù"))}
        waiter, admin = USER["waiter"], USER["platform_admin"]

        def call(key: str, event: Callable[[], dict[str, Any]], how: str = "") -> _Call:
            method, _, path = key.partition(" ")
            short = path.replace("{venue_id}", "{id}").replace("{item_id}", "{item}")
            return _Call(f"{method} {short}" + (f" ({how})" if how else ""), key, event)

        def simple(key: str, token: str | None = None, **kwargs: Any) -> list[_Call]:
            return [call(key, lambda: self.event(key, token, **kwargs))]

        listed = [
            *simple("GET /.well-known/jwks.json"),
            *simple("GET /.well-known/openid-configuration"),
            *simple("GET /health"),
            *simple("GET /me", sara),
            call("POST /me/mfa/totp", self._enrolment, "enrol"),
            call(
                "POST /me/mfa/totp/confirm",
                lambda: self.event(
                    "POST /me/mfa/totp/confirm",
                    account,
                    json_body={"code": self._totp_now(self._enrolled(confirmed=False))},
                ),
                "first code",
            ),
            call(
                "DELETE /me/mfa/totp",
                lambda: self.event(
                    "DELETE /me/mfa/totp",
                    account,
                    json_body={"code": self._totp_now(self._enrolled(confirmed=True))},
                ),
                "current code",
            ),
            call("POST /me/password", self._password_change),
            *simple("GET /me/venues", sara),
            call("GET /oauth/authorize", self._page_request, "the sign-in page"),
            call(
                "POST /oauth/authorize",
                lambda: self._password_form(waiter.email),
                "waiter: a code",
            ),
            call(
                "POST /oauth/authorize",
                lambda: self._password_form(admin.email),
                "platform admin: MFA asked",
            ),
            call("POST /oauth/authorize/mfa", self._mfa_answer, "TOTP code"),
            call(
                "POST /oauth/revoke",
                lambda: self.event(
                    "POST /oauth/revoke",
                    form={
                        "token": self._refresh_token(),
                        "token_type_hint": "refresh_token",
                        "client_id": SPA_CLIENT_ID,
                    },
                ),
                "refresh token",
            ),
            call("POST /oauth/token", self._code_exchange, "authorization code"),
            call(
                "POST /oauth/token",
                lambda: self.event(
                    "POST /oauth/token",
                    form={
                        "grant_type": "refresh_token",
                        "refresh_token": self._refresh_token(),
                        "client_id": SPA_CLIENT_ID,
                    },
                ),
                "refresh token",
            ),
            call(
                "POST /oauth/token",
                lambda: self.event(
                    "POST /oauth/token",
                    form={
                        "grant_type": "client_credentials",
                        "client_id": TILL_CLIENT_ID,
                        "client_secret": TILL_CLIENT_SECRET,
                    },
                ),
                "till credentials",
            ),
            *simple("GET /venues/{venue_id}", sara, path=centrale),
            call(
                "PATCH /venues/{venue_id}/menu/items/{item_id}",
                lambda: self.event(
                    "PATCH /venues/{venue_id}/menu/items/{item_id}",
                    sara,
                    path=tiramisu,
                    json_body={"price_cents": next(self.prices)},
                ),
            ),
            *simple("GET /venues/{venue_id}/orders", sara, path=centrale),
        ]
        calls: dict[str, list[_Call]] = {}
        for listed_call in listed:
            calls.setdefault(listed_call.route_key, []).append(listed_call)
        return calls


@contextlib.contextmanager
def _functions_tracked(admin: psycopg.Connection, database: str) -> Iterator[None]:
    """Connections opened inside the block count their function calls."""
    name = sql.Identifier(database)
    admin.execute(sql.SQL("ALTER DATABASE {} SET track_functions = 'pl'").format(name))
    try:
        yield
    finally:
        admin.execute(sql.SQL("ALTER DATABASE {} RESET track_functions").format(name))


def count_every_route(bench: GateBench, captures: int = 3) -> tuple[list[TripCount], list[str]]:
    """Round trips of each route's calls, through a counting proxy, after two warm-up
    requests; ``captures`` requests are counted and the last one is described. Also the
    route keys for which no valid request is known (a new route: add it to _Requests)."""
    from auth.config import Issuer
    from infra.local.issuer import in_memory_issuer

    database = bench.database
    proxy = CountingProxy(database.venue_url)
    opened: list[GateConnection] = []

    def opening(conninfo: str) -> GateConnection:
        conn = connect(conninfo)
        opened.append(conn)
        return conn

    with (
        psycopg.connect(database.admin_url, autocommit=True) as admin,
        in_memory_issuer() as issuer,
    ):
        try:
            with _functions_tracked(admin, database.name):
                counted = [
                    opening(proxy.conninfo()),
                    opening(proxy.conninfo(database.issuer_url)),
                ]
            runtime = bench.runtime(*counted)
            helper = bench.runtime(opening(database.venue_url), opening(database.issuer_url))
            for each in (runtime, helper):
                each.collaborators[Issuer] = issuer
                each.collaborators[Invitations] = Invitations(
                    issuer.mailer, issuer_url=issuer.settings.token_issuer
                )
            requests = _Requests(bench, helper, admin)
            return _count(bench, proxy, runtime, counted, admin, requests, captures)
        finally:
            for conn in opened:
                conn.close()
            proxy.close()


def _count(
    bench: GateBench,
    proxy: CountingProxy,
    runtime: Runtime,
    counted: list[GateConnection],
    admin: psycopg.Connection,
    requests: _Requests,
    captures: int,
) -> tuple[list[TripCount], list[str]]:
    can_flush = counted[0].info.server_version >= 150000

    def binding_calls_so_far() -> int | None:
        if not can_flush:
            return None
        for conn in counted:
            # Its pending statistics reach the shared ones before it answers the next time.
            one_trip(conn, "SELECT pg_stat_force_next_flush()")
        row = admin.execute(
            "SELECT coalesce(sum(calls), 0) FROM pg_stat_user_functions"
            " WHERE schemaname = 'app' AND funcname = 'binding_allows'"
        ).fetchone()
        return int(row[0]) if row else 0

    def count(label: str, key: str, call: Callable[[], object]) -> TripCount:
        call(), call()
        seen: list[list[Turn]] = []
        calls: int | None = None
        for _ in range(captures):
            before = binding_calls_so_far()
            proxy.reset()
            call()
            seen.append(proxy.turns())
            after = binding_calls_so_far()
            calls = None if before is None or after is None else after - before
        return TripCount(
            label,
            key,
            seen[-1],
            stable=len({len(t) for t in seen}) == 1,
            target=TARGETS.get(key),
            binding_calls=calls,
        )

    known = requests.calls()
    counts: list[TripCount] = []
    unknown: list[str] = []
    for key in bench.routes:
        if key not in known:
            unknown.append(key)
            continue
        for planned in known[key]:

            def serve(planned: _Call = planned) -> object:
                event = planned.event()
                proxy.reset()
                return bench.served(runtime, bench.routes[planned.route_key], event)

            counts.append(count(planned.label, key, serve))
    # The counter's own check: the bare query alone must be exactly one round trip.
    venue = counted[0]
    bench.bind_session(venue, bench.sara, CENTRALE)
    counts.append(count(CHECK, "", lambda: one_trip(venue, bench.order_queue, bench.queue_params)))
    return counts, unknown
