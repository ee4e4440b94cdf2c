"""The stateful cross-tenant campaign: nord's people make things at nord through the API
(an order taken, moved to its invoice and credited; staff and a PIN; an attachment; a
diner with a visit, a dietary record and consent; a price and an availability; a stock
count; settings; a till and a till session with its own order; nord's payment account
onboarded on the fake Stripe, a checkout paid there whose webhook placed an online order,
and a partial refund of it, each of Stripe's deliveries settled through the webhook routes
and the processor; and every other write
route called once with its documented example, so a route added tomorrow takes part),
then every id of nord's alone (read from the database: whatever table holds it) is
replayed by centrale's callers on every route that takes an id, in each id slot of the
path and in the body's ids.

Every replay must be refused 403 or 404, carry nothing of nord's, and nord's rows must
be exactly as they were (every table with a venue_id, compared by digest)."""

from __future__ import annotations

import itertools
import json
import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest
from psycopg import sql

from auth.config import Issuer
from infra.local.client import ApiClient, Response
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, NORD
from infra.openapi import example_of
from tenancy.catalogue import DeclaredRoute, discover
from tenancy.gate import Access
from tenancy.permissions import Role
from tests.campaign.nord import NordInventory, nord_inventory, venue_snapshot, venue_tables
from tests.campaign.record import full_size, record
from tests.campaign.sandbox import Sandbox, sandbox
from tests.conftest import ROOT
from tests.support.demo_users import attach, new_user
from tests.support.fake_stripe import FakeStripe
from tests.support.openapi import document
from tests.support.tills import Till, device_token, enter_pin

ROUTES = discover(ROOT / "functions")
#: Routes that take an id besides the venue's: where a replayed id can go.
WITH_IDS = [
    d
    for d in ROUTES
    if [p for p in d.spec.path_params if p != "venue_id"] and d.spec.access is not Access.PUBLIC
]
#: In `make test`, this many of nord's ids per id slot (those of the slot's kind first).
BOUNDED_IDS = 3
SECRET = "Nordwind"  # in every free text nord's people write, for the leak check


@dataclass
class Made:
    box: Sandbox
    nord_owner: uuid.UUID
    inventory: NordInventory
    #: Every request of the making, and what came back.
    log: list[tuple[str, int]]
    #: The ids of nord's online payment (checkout, online order, refunds): replayed in
    #: every id slot at any size.
    paid: list[str]


def call(api: ApiClient, log: list[tuple[str, int]], method: str, path: str, **kw: Any) -> Response:
    response = api.request(method, path, **kw)
    log.append((f"{method} {path}", response.status))
    return response


def make_things_at_nord(box: Sandbox) -> tuple[uuid.UUID, list[tuple[str, int]]]:
    """Nord's owner (attached to nord alone) makes one of everything through the API."""
    api = box.api
    log: list[tuple[str, int]] = []
    with psycopg.connect(box.database.admin_url, autocommit=True) as admin:
        owner = new_user(admin, f"{SECRET} owner")
        attach(admin, owner, NORD, Role.OWNER)
        newcomer = new_user(admin, f"{SECRET} newcomer")
        email = admin.execute("SELECT email FROM users WHERE id = %s", (newcomer,)).fetchone()
        priced = admin.execute(
            "SELECT p.item_id FROM menu_item_prices p JOIN menu_items i ON i.id = p.item_id"
            " WHERE p.venue_id = %s AND i.active ORDER BY i.name LIMIT 1",
            (NORD,),
        ).fetchone()
    assert email is not None
    assert priced is not None
    at = f"/venues/{NORD}"

    def made(method: str, path: str, body: Any = None, token: str | None = None) -> Any:
        response = call(
            api,
            log,
            method,
            at + path,
            as_user=None if token else owner,
            token=token,
            json_body=body,
        )
        assert response.status < 300 or response.status == 409, (path, response.text)
        return response.json() if response.body and response.status < 300 else {}

    item = str(priced[0])
    made("POST", "/shifts")
    order = made(
        "POST",
        "/orders",
        {"lines": [{"item_id": item, "quantity": 2}], "table_label": f"{SECRET} 9"},
    )
    for action in ("start", "mark_ready", "serve", "close"):
        moved = made("POST", f"/orders/{order['id']}/transitions", {"action": action})
    invoice = moved["invoice"]["id"]
    made("POST", f"/invoices/{invoice}/credit-notes", {"reason": f"{SECRET} refund"})
    staff = made("POST", "/staff", {"display_name": f"{SECRET} cook", "role": "waiter"})
    made("PUT", f"/staff/{staff['id']}/pin", {"pin": "97531"})
    made("POST", "/attachments", {"email": email[0], "role": "waiter"})
    diner = made(
        "POST", "/customers", {"display_name": f"{SECRET} diner", "email": "nordwind@example.com"}
    )
    made(
        "PUT",
        f"/customers/{diner['id']}/dietary",
        {"allergens": ["peanuts"], "dietary_notes": f"{SECRET} notes"},
    )
    made("PUT", f"/customers/{diner['id']}/consent", {"share_group_history": True})
    made("POST", f"/customers/{diner['id']}/visits", {"party_size": 4})
    made("PATCH", f"/menu/items/{item}", {"price_cents": 1987})
    made("PUT", f"/stock-counts/{item}", {"quantity": 17})
    made("PATCH", "/settings", {"legal_name": f"{SECRET} SRL", "vat_number": "IT55555555555"})
    registered = made("POST", "/tills", {"name": f"{SECRET} till"})
    till = Till(registered["client_id"], registered["client_secret"], NORD)
    opened = enter_pin(api, device_token(api, till), NORD, "97531")
    assert opened.status == 201, opened.text
    session = opened.json()["access_token"]
    made("POST", "/orders", {"lines": [{"item_id": item, "quantity": 1}]}, token=session)
    pay_online_at_nord(box, made, item)
    made("PUT", f"/menu/items/{item}/availability", {"available": False})
    # Every other write route of nord's, once, with its documented example and ids of what
    # was made above: new routes (checkouts, say) make their own things here without this
    # file being edited.
    called = {shape(key) for key, _ in log}
    for declared in ROUTES:
        spec = declared.spec
        if spec.access is not Access.VENUE or spec.method in ("GET", "DELETE"):
            continue
        if shape(spec.route_key) in called:
            continue
        path = spec.path.replace("{venue_id}", str(NORD))
        for slot in spec.path_params:
            # Not the owner's own attachment: a route refuses one's own (own-attachment).
            ours = sorted(own_ids(box.database.admin_url, slot) - {str(owner)})
            path = path.replace("{" + slot + "}", ours[0] if ours else str(uuid.uuid4()))
        call(api, log, spec.method, path, as_user=owner, json_body=_example_body(declared))
    return owner, log


def pay_online_at_nord(box: Sandbox, made: Any, item: str) -> None:
    """Nord's owner opens nord's payment account and onboards it on (fake) Stripe, whose
    account.updated enables charges; takes a checkout, which the diner pays on Stripe and
    whose webhook places the online order; then refunds part of it, which Stripe's webhook
    confirms. Every delivery goes through the webhook routes and the processor."""
    payments = box.payments
    seq = payments.fake.last_seq()
    account = made("POST", "/payments/account")["stripe_account_id"]
    payments.fake.complete_onboarding(account)
    payments.settle(seq)
    assert made("GET", "/payments/status")["charges_enabled"] is True
    seq = payments.fake.last_seq()
    started = made(
        "POST",
        "/checkouts",
        {
            "lines": [{"item_id": item, "quantity": 3}],
            "table_label": f"{SECRET} web",
            "idempotency_key": f"{SECRET}-checkout",
        },
    )
    payments.fake.pay(str(started["client_secret"]).split("_secret_")[0])
    payments.settle(seq)
    placed = made("GET", f"/checkouts/{started['checkout_id']}")
    assert placed["status"] == "placed", placed
    seq = payments.fake.last_seq()
    made(
        "POST",
        f"/orders/{placed['order_id']}/refunds",
        {
            "amount_cents": started["amount_cents"] // 3,
            "reason": f"{SECRET} one dish was cold",
            "idempotency_key": f"{SECRET}-refund",
        },
    )
    payments.settle(seq)


def shape(route_key: str) -> str:
    """``POST /venues/{venue_id}/orders/{order_id}/transitions`` and the same with ids
    alike: ``POST /venues/{}/orders/{}/transitions``."""
    return re.sub(
        r"\{[a-z_]+\}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "{}", route_key
    )


def own_ids(admin_url: str, slot: str) -> set[str]:
    """Nord's ids of the kind a path slot names (the table its name points at)."""
    stem = slot.removesuffix("_id")
    kinds = {"customer": "diners", "staff": "staff_members", "user": "venue_attachments"}
    table = kinds.get(stem, stem + "s")
    with psycopg.connect(admin_url) as admin:
        if table not in venue_tables(admin):
            return set()
        column = sql.Identifier("user_id" if table == "venue_attachments" else "id")
        query = sql.SQL("SELECT {} FROM {} WHERE venue_id = %s").format(
            column, sql.Identifier(table)
        )
        return {str(r[0]) for r in admin.execute(query, (NORD,)).fetchall()}


def _example_body(declared: DeclaredRoute) -> Any:
    operation = document()["paths"][declared.spec.path][declared.spec.method.lower()]
    content = operation.get("requestBody", {}).get("content", {})
    return next(iter(content.values()))["example"] if content else None


@pytest.fixture(scope="module")
def made(server_url: str, signing_key: SigningKey, issuer: Issuer) -> Iterator[Made]:
    """Nord's things, made on a fake Stripe of the campaign's own: Stripe answers a venue's
    second account creation with its first account (the idempotency key names the venue),
    so onboarding nord on the suite's fake would leave later tests an account onboarded
    already."""
    with FakeStripe() as own_stripe, sandbox(server_url, signing_key, issuer, own_stripe) as box:
        owner, log = make_things_at_nord(box)
        admin_url = box.database.admin_url
        yield Made(box, owner, nord_inventory(admin_url), log, paid_ids(admin_url))


def paid_ids(admin_url: str) -> list[str]:
    with psycopg.connect(admin_url) as admin:
        rows = admin.execute(
            "SELECT id::text FROM checkouts WHERE venue_id = %(v)s"
            " UNION SELECT order_id::text FROM checkouts WHERE venue_id = %(v)s"
            " AND order_id IS NOT NULL UNION SELECT id::text FROM refunds WHERE venue_id = %(v)s",
            {"v": NORD},
        ).fetchall()
    return sorted(str(r[0]) for r in rows)


def ids_for_slot(made: Made, slot: str) -> list[str]:
    """Nord's ids to replay in a path slot: the slot's own kind first (ids from the table
    its name points at), then the others; all of them at full size. The bounded run takes a
    few of them and the ids of nord's online payment."""
    own = own_ids(made.box.database.admin_url, slot)
    ours = sorted(own & made.inventory.ids)
    rest = sorted(made.inventory.ids - own)
    ordered = ours + rest
    if full_size():
        return ordered
    some = ordered[:BOUNDED_IDS] + rest[:1]
    return some + [i for i in made.paid if i in made.inventory.ids and i not in some]


def replays(made: Made) -> Iterator[tuple[DeclaredRoute, str, str]]:
    for declared in WITH_IDS:
        for slot in declared.spec.path_params:
            if slot == "venue_id":
                continue
            for nord_id in ids_for_slot(made, slot):
                yield declared, slot, nord_id


def replay_path(declared: DeclaredRoute, slot: str, nord_id: str) -> str:
    path = declared.spec.path.replace("{venue_id}", str(CENTRALE))
    path = path.replace("{" + slot + "}", nord_id)
    for other in declared.spec.path_params:
        path = path.replace("{" + other + "}", nord_id)
    return path


def replay_body(declared: DeclaredRoute, nord_id: str) -> Any:
    """The route's documented example with every id in it made nord's."""
    body = _example_body(declared)
    if body is None:
        return None
    return json.loads(json.dumps(body).replace(example_id(), nord_id))


def example_id() -> str:
    return str(example_of({"type": "string", "format": "uuid"}, {}))


@pytest.fixture(scope="module")
def centrale_callers(made: Made) -> dict[str, str]:
    """Centrale's owner (attached to centrale alone) and a till session of centrale."""
    api = made.box.api
    owner = made.box.centrale_owner
    staff = api.request(
        "POST",
        f"/venues/{CENTRALE}/staff",
        as_user=owner,
        json_body={"display_name": "Replay till", "role": "manager"},
    )
    api.request(
        "PUT",
        f"/venues/{CENTRALE}/staff/{staff.json()['id']}/pin",
        as_user=owner,
        json_body={"pin": "86421"},
    )
    registered = api.request(
        "POST", f"/venues/{CENTRALE}/tills", as_user=owner, json_body={"name": "Replay till"}
    ).json()
    till = Till(registered["client_id"], registered["client_secret"], CENTRALE)
    opened = enter_pin(api, device_token(api, till), CENTRALE, "86421")
    assert opened.status == 201, opened.text
    return {
        "person": api.fresh_token(owner, scope="openid account venue"),
        "till session": opened.json()["access_token"],
    }


def test_every_nord_id_replayed_by_centrale_on_every_route_is_refused(
    made: Made, centrale_callers: dict[str, str]
) -> None:
    """Given things nord's people made at nord, when centrale's owner and a centrale till
    session send each of nord's ids (in the path and in the body) to every route that takes
    an id, at centrale, then every answer is a 403 or a 404 that shows nothing of nord's,
    and nord's rows are exactly as they were."""
    api, inventory = made.box.api, made.inventory
    before = venue_snapshot(made.box.database.admin_url, NORD)
    wrong: list[str] = []
    cases = 0
    statuses: dict[int, int] = {}

    for (declared, slot, nord_id), who in itertools.product(replays(made), centrale_callers):
        if who == "till session" and not declared.spec.till:
            continue
        path = replay_path(declared, slot, nord_id)
        body = replay_body(declared, nord_id)
        response = api.request(
            declared.spec.method, path, token=centrale_callers[who], json_body=body
        )
        cases += 1
        statuses[response.status] = statuses.get(response.status, 0) + 1
        leaked = inventory.found_in(response.text, path + json.dumps(body))
        if response.status not in (403, 404) or leaked:
            wrong.append(
                f"{declared.spec.route_key} as {who} with {nord_id} in {slot}:"
                f" {response.status} {response.text[:200]} {leaked}"
            )

    after = venue_snapshot(made.box.database.admin_url, NORD)
    changed = sorted(t for t in before if before[t] != after.get(t))
    record(
        "cross-tenant replay",
        cases=cases,
        outcome=(
            "every replay refused 403/404, nothing of nord's in any answer, nord's rows unchanged"
            if not wrong and not changed
            else f"{len(wrong)} replays answered otherwise; nord's tables changed: {changed}"
        ),
        details=[
            f"made at nord first: {len(made.log)} requests"
            f" ({sum(1 for _, s in made.log if s < 300)} succeeded)",
            f"{len(inventory.ids)} nord-only ids; {len(WITH_IDS)} routes that take an id,"
            f" callers: {', '.join(centrale_callers)}",
            "answers by status: " + ", ".join(f"{k}: {v}" for k, v in sorted(statuses.items())),
            f"nord's online payment among them, in every id slot: {len(made.paid)} ids (its"
            " checkout, its online order, its refund); payment_accounts, checkouts and refunds"
            " among the tables compared",
            *wrong[:20],
        ],
    )
    assert wrong == []
    assert changed == []
    assert cases > len(WITH_IDS)


def test_nord_made_one_of_everything(made: Made) -> None:
    """The making went through: nord has the things replayed (so the replay means
    something), each write route was called, and its ids are in the inventory."""
    with psycopg.connect(made.box.database.admin_url) as admin:
        counts = {
            table: admin.execute(
                f"SELECT count(*) FROM {table} WHERE venue_id = %s", (NORD,)
            ).fetchone()
            for table in ("orders", "invoices", "staff_members", "diners", "till_sessions")
        }
    written = {k.split(" ", 1)[0] for k, _ in made.log}

    assert all(row is not None and row[0] > 0 for row in counts.values()), counts
    assert {"POST", "PUT", "PATCH"} <= written
    assert any(SECRET in t for t in made.inventory.texts)


def nord_payments(admin_url: str) -> dict[str, list[tuple[Any, ...]]]:
    """Nord's payment account, checkouts, online orders and refunds, as the database has them."""
    with psycopg.connect(admin_url) as admin:
        return {
            "account": admin.execute(
                "SELECT stripe_account_id, charges_enabled FROM payment_accounts"
                " WHERE venue_id = %s",
                (NORD,),
            ).fetchall(),
            "checkouts": admin.execute(
                "SELECT id::text, status, order_id::text FROM checkouts WHERE venue_id = %s",
                (NORD,),
            ).fetchall(),
            "online orders": admin.execute(
                "SELECT id::text FROM orders WHERE venue_id = %s AND channel = 'online'", (NORD,)
            ).fetchall(),
            "refunds": admin.execute(
                "SELECT id::text, status, amount_cents < (SELECT amount_cents FROM checkouts c"
                " WHERE c.id = r.checkout_id) FROM refunds r WHERE venue_id = %s",
                (NORD,),
            ).fetchall(),
        }


def test_nord_paid_online_and_refunded_part_of_it(made: Made) -> None:
    """The making took nord through payments as its owner would: nord has a payment account
    whose onboarding Stripe's account.updated confirmed, a checkout paid on (fake) Stripe
    whose webhook placed an online order, and a partial refund of it; their ids are among
    nord's ids replayed in every id slot, and nord's snapshot covers their tables."""
    admin_url = made.box.database.admin_url
    found = nord_payments(admin_url)
    ((_, charges_enabled),) = found["account"]
    ((checkout_id, checkout_status, order_id),) = found["checkouts"]
    refunds = found["refunds"]

    assert charges_enabled is True
    assert checkout_status == "placed"
    assert found["online orders"] == [(order_id,)]
    assert refunds
    assert all(status == "succeeded" and part for _, status, part in refunds)
    paid = {checkout_id, order_id} | {refund for refund, _, _ in refunds}
    assert paid <= made.inventory.ids
    for declared in WITH_IDS:
        for slot in declared.spec.path_params:
            if slot != "venue_id":
                assert paid <= set(ids_for_slot(made, slot)), (declared.spec.route_key, slot)
    with psycopg.connect(admin_url) as admin:
        tables = set(venue_tables(admin))
    assert {"payment_accounts", "checkouts", "refunds"} <= tables
    assert tables <= set(venue_snapshot(admin_url, NORD))


def test_the_making_leaves_the_suites_fake_stripe_alone(
    made: Made, fake_stripe: FakeStripe
) -> None:
    """Nord's payments are made on a fake Stripe of the campaign's own: on the suite's,
    Stripe's idempotency (one account per venue) would hand a later test that onboards nord
    the account onboarded here, and its account.updated would never come."""
    ((stripe_account, _),) = nord_payments(made.box.database.admin_url)["account"]

    assert not any(stripe_account in str(d["body"]) for d in fake_stripe.deliveries())
