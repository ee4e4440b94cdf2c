"""Property-based fuzzing of every declared route, from the OpenAPI document's schemas.

Callers: an account attached to centrale alone (as its owner: every flag there, none at
nord) and a till session of centrale; the PIN route with a centrale till's device token,
the public routes with no token. Hypothesis generates the path, query, body and headers
of each request from the operation's schemas (valid bodies, bodies with nord's venue id
added, and JSON that fits no schema), with nord's ids among the values wherever an id
goes (path, query, body, headers). Stripe's webhook routes (public, no token) get bodies
signed as Stripe signs them, most with the endpoint's own secret, so the fuzz reaches the
parsing past the signature; the rest unsigned, junk, stale or under the other secret.
Every answer is checked:

- never a 5xx;
- its status is documented, and its body fits the documented schema (every refusal the
  route's error shape: problem+json for the API);
- it carries no id or free-text value of nord's alone, nor nord's own prices, unless the
  request itself carried it (an echo of the caller's own input).

It runs on a database of its own (tests/campaign/sandbox.py): valid requests change
centrale's data. Bounded in `make test` (a few examples a route, derandomized so CI is
repeatable), at least 10,000 requests under `make campaign`.
"""

from __future__ import annotations

import json
import math
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from auth.config import Issuer
from infra.local.client import Response
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, NORD
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.spec import SignedPayload
from tests.campaign.generate import values_for
from tests.campaign.nord import NordInventory, disclosed, known_ids, nord_inventory
from tests.campaign.record import full_size, record
from tests.campaign.sandbox import Sandbox, sandbox
from tests.conftest import ROOT
from tests.support.fake_stripe import FakeStripe
from tests.support.openapi import document, schema_errors
from tests.support.payments import signature
from tests.support.tills import Till, device_token, enter_pin

ROUTES = discover(ROOT / "functions")
FULL_CASES = 10_000
BOUNDED_EXAMPLES = 4
#: Who calls each kind of route in the campaign.
CALLERS = {
    Access.PUBLIC: ["anonymous"],
    Access.USER: ["person", "till session"],
    Access.VENUE: ["person", "till session"],
    Access.DEVICE: ["device", "till session"],
}
CASES = [(d, who) for d in ROUTES for who in CALLERS[d.spec.access]]


def turned_away(declared: DeclaredRoute, who: str) -> bool:
    """A till session on a route not open to tills: refused at the gate whatever it sends,
    so it gets a tenth of the examples."""
    return who == "till session" and not declared.spec.till


REFUSED_PAIRS = sum(turned_away(d, who) for d, who in CASES)


def refused_share(per_pair: int) -> int:
    """What a till session turned away at the gate gets: a tenth of a pair's examples."""
    return max(1, per_pair // 10)


def examples_per_pair(full: bool) -> int:
    """At full size, the fewest examples per pair that add up to FULL_CASES in all."""
    if not full:
        return BOUNDED_EXAMPLES
    per_pair = math.ceil(FULL_CASES / (len(CASES) - REFUSED_PAIRS * 0.9))
    while (len(CASES) - REFUSED_PAIRS) * per_pair + REFUSED_PAIRS * refused_share(
        per_pair
    ) < FULL_CASES:
        per_pair += 1
    return per_pair


#: Examples per route and caller pair: at full size, at least FULL_CASES in all.
EXAMPLES = examples_per_pair(full_size())
PERSON_SCOPE = "openid email profile account venue"
TILL_PIN = "86420"
#: Headers a client could use to name a venue, a forwarded address, or confuse a parser.
HEADER_NAMES = [
    "x-venue-id",
    "venue-id",
    "x-forwarded-for",
    "x-amzn-trace-id",
    "accept",
    "accept-language",
    "idempotency-key",
    "x-correlation-id",
    "origin",
    "cookie",
    "content-type",
]
ERROR_SHAPES = {
    "problem": ("application/problem+json", {"$ref": "#/components/schemas/Problem"}),
    "oauth": ("application/json", {"$ref": "#/components/schemas/OAuthError"}),
    "page": ("text/html", {"type": "string"}),
}


@dataclass
class Findings:
    cases: int = 0
    statuses: dict[str, int] = field(default_factory=dict)
    found: list[str] = field(default_factory=list)
    by_pair: dict[str, dict[int, int]] = field(default_factory=dict)
    #: Stripe's webhook routes: their answers by status and problem code.
    webhooks: dict[str, int] = field(default_factory=dict)


FINDINGS = Findings()


@dataclass
class Callers:
    box: Sandbox
    inventory: NordInventory
    ids: list[str]
    till: Till
    pin_device: str
    _tokens: dict[str, str] = field(default_factory=dict)

    def token(self, who: str) -> str | None:
        if who == "anonymous":
            return None
        if who not in self._tokens:
            self._tokens[who] = self._fresh(who)
        return self._tokens[who]

    def renew(self, who: str) -> None:
        """After a 401 (a session the fuzz ended itself, or an expired token)."""
        self._tokens.pop(who, None)

    def _fresh(self, who: str) -> str:
        api = self.box.api
        if who == "person":
            return api.fresh_token(self.box.centrale_owner, scope=PERSON_SCOPE)
        if who == "device":
            return self.pin_device
        opened = enter_pin(api, device_token(api, self.till), CENTRALE, TILL_PIN)
        assert opened.status == 201, opened.text
        token: str = opened.json()["access_token"]
        return token


@pytest.fixture(scope="module")
def callers(
    server_url: str, signing_key: SigningKey, issuer: Issuer, fake_stripe: FakeStripe
) -> Iterator[Callers]:
    with sandbox(server_url, signing_key, issuer, fake_stripe) as box:
        inventory = nord_inventory(box.database.admin_url)
        ids = known_ids(box.database.admin_url)
        api, owner = box.api, box.centrale_owner
        # The till session's person: made after the ids were read, so the fuzz never aims
        # at them by id (it would change their PIN, and the till could not open again).
        staff = api.request(
            "POST",
            f"/venues/{CENTRALE}/staff",
            as_user=owner,
            json_body={"display_name": "Fuzz till", "role": "manager"},
        )
        assert staff.status == 201, staff.text
        pin = api.request(
            "PUT",
            f"/venues/{CENTRALE}/staff/{staff.json()['id']}/pin",
            as_user=owner,
            json_body={"pin": TILL_PIN},
        )
        assert pin.status == 200, pin.text
        tills = [
            api.request("POST", f"/venues/{CENTRALE}/tills", as_user=owner, json_body={"name": n})
            for n in ("Fuzz till", "Fuzz device")
        ]
        assert [t.status for t in tills] == [201, 201], [t.text for t in tills]
        till, device = (
            Till(t.json()["client_id"], t.json()["client_secret"], CENTRALE) for t in tills
        )
        yield Callers(box, inventory, ids, till, device_token(api, device))
    reached = sum(1 for statuses in FINDINGS.by_pair.values() if any(s < 300 for s in statuses))
    record(
        "fuzz every route",
        cases=FINDINGS.cases,
        outcome=(
            "no 5xx, every answer documented and fitting its schema, no nord id or"
            " nord-only value in any answer"
            if not FINDINGS.found
            else f"{len(FINDINGS.found)} findings (see below)"
        ),
        details=[
            f"{len(ROUTES)} routes, {len(CASES)} route and caller pairs, {EXAMPLES} generated"
            f" requests each ({refused_share(EXAMPLES)} for the {REFUSED_PAIRS} pairs of a till"
            " session on a route not open to tills)",
            f"{len(inventory.ids)} nord-only ids and {len(inventory.texts)} nord-only values"
            f" watched for, and {len(inventory.prices)} nord-only prices",
            "answers by status: "
            + ", ".join(f"{k}: {v}" for k, v in sorted(FINDINGS.statuses.items())),
            f"route and caller pairs that got at least one 2xx answer: {reached}",
            "Stripe's webhook routes (no token; most bodies signed with the endpoint's"
            " secret, so the fuzz reaches past the signature): "
            + ", ".join(f"{k}: {v}" for k, v in sorted(FINDINGS.webhooks.items())),
            *FINDINGS.found[:20],
        ],
    )


# --- strategies from the OpenAPI document ---------------------------------------------------


def _generating(schema: dict[str, Any], ids: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    return values_for(schema, document()["components"]["schemas"], ids)


def _junk(names: list[str], ids: st.SearchStrategy[str]) -> st.SearchStrategy[Any]:
    """JSON that fits no route's schema: the route's own field names with wrong values."""
    leaves = st.none() | st.booleans() | st.integers() | st.text(max_size=12) | ids
    keys = st.sampled_from(names) | st.text(max_size=8) if names else st.text(max_size=8)
    return st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(keys, inner, max_size=4),
        max_leaves=8,
    )


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    body: bytes
    headers: dict[str, str]

    def as_text(self) -> str:
        return " ".join(
            [
                self.path,
                json.dumps(self.query),
                self.body.decode(errors="replace"),
                json.dumps(self.headers),
            ]
        )


def requests_for(declared: DeclaredRoute, ids: list[str]) -> st.SearchStrategy[Request]:
    spec = declared.spec
    operation = document()["paths"][spec.path][spec.method.lower()]
    an_id = st.sampled_from(ids) | st.uuids().map(str)
    # Mostly centrale, so requests get past the gate; nord and nowhere now and then.
    venue = st.tuples(st.integers(0, 9), st.uuids()).map(
        lambda t: str(CENTRALE) if t[0] < 8 else str(NORD) if t[0] == 8 else str(t[1])
    )
    path_params = {p: venue if p == "venue_id" else an_id for p in spec.path_params}
    query_params: dict[str, st.SearchStrategy[Any]] = {}
    for parameter in operation["parameters"]:
        if parameter["in"] != "query":
            continue
        values = _generating(parameter["schema"], an_id).map(
            lambda v: v if isinstance(v, str) else json.dumps(v)
        )
        query_params[parameter["name"]] = values if parameter["required"] else st.none() | values
    extra_query = st.dictionaries(st.sampled_from(["venue_id", "venue", "id"]), an_id, max_size=1)
    body: st.SearchStrategy[bytes] = st.just(b"")
    media = "application/json"
    if "requestBody" in operation:
        ((media, content),) = operation["requestBody"]["content"].items()
        schema = content["schema"]
        described = document()["components"]["schemas"].get(
            schema.get("$ref", "").rsplit("/", 1)[-1], {}
        )
        names = sorted(described.get("properties", {}))
        valid = _generating(schema, an_id)
        with_nord = valid.map(lambda b: {**b, "venue_id": str(NORD)} if isinstance(b, dict) else b)
        values = st.one_of(valid, valid, valid, with_nord, _junk(names, an_id))
        if media == "application/x-www-form-urlencoded":
            body = values.map(
                lambda v: (
                    urlencode({str(k): str(x) for k, x in v.items()}).encode()
                    if isinstance(v, dict)
                    else str(v).encode()
                )
            )
        else:
            body = values.map(lambda v: json.dumps(v).encode())
    if issubclass(spec.body, SignedPayload):
        return signed_requests_for(declared, headers_of(an_id))
    header_value = an_id | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
    headers = st.dictionaries(st.sampled_from(HEADER_NAMES), header_value, max_size=3)
    now_and_then = st.integers(min_value=0, max_value=9).map(lambda n: n == 0)

    @st.composite
    def build(draw: st.DrawFn) -> Request:
        path = spec.path
        for name, strategy in path_params.items():
            path = path.replace("{" + name + "}", draw(strategy))
        query = {k: v for k, s in query_params.items() if (v := draw(s)) is not None}
        if draw(now_and_then):
            query |= draw(extra_query)
        extra_headers = draw(headers)
        if not draw(now_and_then):
            extra_headers.pop("content-type", None)
        sent_headers = {"content-type": media} | extra_headers
        return Request(spec.method, path, query, draw(body), sent_headers)

    return build()


def headers_of(an_id: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, str]]:
    value = an_id | st.text(st.characters(min_codepoint=32, max_codepoint=126), max_size=40)
    return st.dictionaries(st.sampled_from(HEADER_NAMES), value, max_size=3)


def signed_requests_for(
    declared: DeclaredRoute, headers: st.SearchStrategy[dict[str, str]]
) -> st.SearchStrategy[Request]:
    """Stripe's webhook routes (public, no token): what matters is past the signature, so
    most bodies are signed as Stripe signs them, with this endpoint's secret. Bodies are the
    documented event with its fields given wrong values, dropped, or joined by others (an
    account, nord's id), JSON that is no object, and bytes that are no UTF-8; signatures
    are right, missing, junk, well formed but wrong, under the other endpoint's secret,
    stale or from the future."""
    spec = declared.spec
    operation = document()["paths"][spec.path][spec.method.lower()]
    (content,) = operation["requestBody"]["content"].values()
    event: dict[str, Any] = content["example"]
    connect = spec.path.endswith("/connect")
    own, other = (
        (FakeStripe.connect_webhook_secret, FakeStripe.platform_webhook_secret)
        if connect
        else (FakeStripe.platform_webhook_secret, FakeStripe.connect_webhook_secret)
    )
    names = [*sorted(event), "account", "venue_id"]
    leaves = (
        st.none()
        | st.booleans()
        | st.integers()
        | st.floats(allow_nan=False)
        | st.text(max_size=20)
        | st.sampled_from(["evt_fuzzed", "acct_fuzzed", str(NORD), "payment_intent.succeeded"])
    )
    junk = st.recursive(
        leaves,
        lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner),
        max_leaves=8,
    )
    changed = st.dictionaries(st.sampled_from(names), junk, max_size=3)
    dropped = st.lists(st.sampled_from(sorted(event)), max_size=2)
    fresh_id = st.uuids().map(lambda u: f"evt_{u.hex}")

    @st.composite
    def events(draw: st.DrawFn) -> bytes:
        shaped = {**event, "id": draw(fresh_id)}
        if connect and draw(st.booleans()):
            shaped["account"] = "acct_fuzzed"
        shaped |= draw(changed)
        for name in draw(dropped):
            shaped.pop(name, None)
        return json.dumps(shaped).encode()

    bodies = st.one_of(
        events(),
        events(),
        events(),
        junk.map(lambda v: json.dumps(v).encode()),
        st.binary(max_size=40),
        st.text(max_size=40).map(str.encode),
    )
    now = int(time.time())
    stamps = st.sampled_from([now, now, now, now - 3600, now + 3600])

    @st.composite
    def build(draw: st.DrawFn) -> Request:
        body = draw(bodies)
        kind = draw(st.sampled_from(["own"] * 5 + ["other", "junk", "wrong", "none"]))
        extra = draw(headers)
        sent = {"content-type": "application/json"} | extra
        if kind in ("own", "other"):
            secret = own if kind == "own" else other
            sent["stripe-signature"] = signature(body, secret, draw(stamps))
        elif kind == "wrong":
            mac = draw(st.binary(min_size=32, max_size=32)).hex()
            sent["stripe-signature"] = f"t={draw(stamps)},v1={mac}"
        elif kind == "junk":
            printable = st.characters(min_codepoint=32, max_codepoint=126)
            sent["stripe-signature"] = draw(st.text(printable, max_size=60))
        return Request(spec.method, spec.path, {}, body, sent)

    return build()


# --- the checks -------------------------------------------------------------------------------


def judge(
    declared: DeclaredRoute,
    request: Request,
    response: Response,
    inventory: NordInventory,
    allowed: frozenset[str] = frozenset(),
) -> list[str]:
    operation = document()["paths"][declared.spec.path][declared.spec.method.lower()]
    status, media = response.status, response.headers.get("content-type", "").split(";")[0]
    where = f"{declared.spec.route_key} answered {status}"
    found: list[str] = []
    if status >= 500:
        found.append(f"{where}: {response.text[:300]}")
    elif status >= 400:
        expected_media, schema = ERROR_SHAPES[declared.spec.errors]
        if media != expected_media:
            found.append(f"{where} as {media!r}, not {expected_media}")
        elif media.endswith("json"):
            found += [f"{where}: {e}" for e in schema_errors(schema, response.json())]
    else:
        documented = operation["responses"].get(str(status))
        if documented is None:
            found.append(f"{where}: a status the document does not give")
        elif "content" in documented:
            content = documented["content"].get(media)
            if content is None:
                found.append(f"{where} as {media!r}, not {sorted(documented['content'])}")
            elif media.endswith("json"):
                found += [
                    f"{where}: {e}" for e in schema_errors(content["schema"], response.json())
                ]
    answer = response.text + json.dumps(response.headers)
    leaked = inventory.found_in(answer, request.as_text(), allowed)
    found += [f"{where} carries {m!r}" for m in leaked]
    return found


def problem_code(response: Response) -> str:
    """A refusal's code (the tail of its problem type); nothing for an answer."""
    if response.status < 400 or "json" not in response.headers.get("content-type", ""):
        return ""
    kind = response.json().get("type", "")
    return str(kind).rsplit("/", 1)[-1] if isinstance(kind, str) else ""


def send(callers: Callers, who: str, request: Request) -> Response:
    response = callers.box.api.request(
        request.method,
        request.path,
        token=callers.token(who),
        body=request.body or None,
        query=request.query or None,
        headers=request.headers,
    )
    if response.status == 401:
        callers.renew(who)
    return response


def keep_centrale_open(admin_url: str, owner: uuid.UUID) -> None:
    """What the fuzz may have done to its own caller (a setting requiring MFA of owners, its
    attachment changed by itself through another route) is undone, so every route is
    fuzzed past the gate."""
    with psycopg.connect(admin_url, autocommit=True) as admin:
        admin.execute(
            "UPDATE venue_settings SET require_mfa_for_admins = false WHERE venue_id = %s",
            (CENTRALE,),
        )
        admin.execute(
            "UPDATE venue_attachments SET role = 'owner', permissions = (SELECT permissions"
            " FROM role_permissions WHERE role = 'owner') WHERE venue_id = %s AND user_id = %s",
            (CENTRALE, owner),
        )


@pytest.mark.parametrize(
    ("declared", "who"), CASES, ids=[f"{d.spec.route_key} as {who}" for d, who in CASES]
)
def test_fuzzing_a_route_finds_no_5xx_no_schema_breach_and_nothing_of_nord(
    callers: Callers, declared: DeclaredRoute, who: str
) -> None:
    """Given centrale's owner or a till session of centrale (or the till's device, or no
    token on a public route), when generated requests reach the route with nord's ids
    among their values, then no answer is a 5xx, every answer fits the document, and none
    carries anything of nord's alone."""
    keep_centrale_open(callers.box.database.admin_url, callers.box.centrale_owner)

    @settings(
        max_examples=refused_share(EXAMPLES) if turned_away(declared, who) else EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not full_size(),
        phases=[Phase.explicit, Phase.generate, Phase.shrink],
        suppress_health_check=list(HealthCheck),
        report_multiple_bugs=False,
    )
    @given(request=requests_for(declared, callers.ids))
    def fuzz(request: Request) -> None:
        response = send(callers, who, request)
        FINDINGS.cases += 1
        FINDINGS.statuses[str(response.status)] = FINDINGS.statuses.get(str(response.status), 0) + 1
        key = f"{declared.spec.route_key} as {who}"
        FINDINGS.by_pair.setdefault(key, {}).setdefault(response.status, 0)
        FINDINGS.by_pair[key][response.status] += 1
        if issubclass(declared.spec.body, SignedPayload):
            outcome = f"{response.status} {problem_code(response)}".strip()
            FINDINGS.webhooks[outcome] = FINDINGS.webhooks.get(outcome, 0) + 1
        allowed = frozenset(disclosed(callers.box.database.admin_url, declared.spec.route_key))
        problems = judge(declared, request, response, callers.inventory, allowed)
        if problems:
            FINDINGS.found.extend(p for p in problems if p not in FINDINGS.found)
        assert problems == [], f"{request}\n" + "\n".join(problems)

    fuzz()


def test_the_full_size_plan_sends_at_least_the_full_count() -> None:
    """Given every route and caller pair, when the campaign runs at full size, then the
    examples planned per pair (a tenth of them for a till session turned away at the gate)
    add up to at least FULL_CASES requests."""
    per_pair = examples_per_pair(full=True)
    planned = sum(refused_share(per_pair) if turned_away(d, who) else per_pair for d, who in CASES)

    assert planned >= FULL_CASES
