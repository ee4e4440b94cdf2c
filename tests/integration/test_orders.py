"""Orders as a venue takes them: at a till session (or in the admin app), priced by the
venue, numbered without gaps, moved through one state machine, never seen by another venue.
Concurrency tests run at venues made for them, so their numbers touch nothing else."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, NORD, USER, demo_staff_id, menu_item_id
from orders.models import OrderDetail
from tenancy import ROLE_DEFAULTS, Role
from tests.support.demo_users import copy_of_demo_user
from tests.support.second_factor import new_venue
from tests.support.tills import register_till, till_session

TIRAMISU = menu_item_id("Tiramisù")
RISOTTO = menu_item_id("Risotto ai funghi")
VITELLO = menu_item_id("Vitello tonnato")  # priced at nord only
NEGRONI = menu_item_id("Negroni")  # bar lume's catalogue


def assert_problem(response: Response, status: int, code: str) -> dict[str, Any]:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    body: dict[str, Any] = response.json()
    assert body["code"] == code
    return body


def take(api: ApiClient, venue: uuid.UUID, body: dict[str, Any], **auth: Any) -> Response:
    return api.request("POST", f"/venues/{venue}/orders", json_body=body, **auth)


def move(
    api: ApiClient,
    venue: uuid.UUID,
    order: str,
    action: str,
    reason: str | None = None,
    **auth: Any,
) -> Response:
    body: dict[str, Any] = {"action": action}
    if reason is not None:
        body["reason"] = reason
    return api.request(
        "POST", f"/venues/{venue}/orders/{order}/transitions", json_body=body, **auth
    )


def count_orders(admin_db: psycopg.Connection, venue: uuid.UUID) -> int:
    row = admin_db.execute("SELECT count(*) FROM orders WHERE venue_id = %s", (venue,)).fetchone()
    assert row is not None
    return int(row[0])


@pytest.fixture(scope="module")
def centrale_waiter(api: ApiClient) -> str:
    """A till session of centrale's waiter, on a till of its own."""
    token: str = till_session(api, register_till(api, CENTRALE), "waiter")["access_token"]
    return token


@pytest.fixture(scope="module")
def nord_manager(api: ApiClient) -> str:
    """A till session of nord's manager, on a till of its own."""
    token: str = till_session(api, register_till(api, NORD), "manager")["access_token"]
    return token


@pytest.fixture
def service_venue(admin_db: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    """A venue of its own group with a manager, one priced item and an open shift:
    (venue, manager, item)."""
    return make_service_venue(admin_db)


def make_service_venue(admin_db: psycopg.Connection) -> tuple[uuid.UUID, uuid.UUID, uuid.UUID]:
    venue = new_venue(admin_db)
    manager = admin_db.execute(
        "SELECT id FROM users WHERE email = %s",
        (copy_of_demo_user(admin_db, USER["manager"], with_attachments=False),),
    ).fetchone()
    assert manager is not None
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'manager', %s)",
        (venue, manager[0], int(ROLE_DEFAULTS[Role.MANAGER])),
    )
    admin_db.execute(
        "INSERT INTO staff_members (venue_id, user_id, display_name, role)"
        " VALUES (%s, %s, 'Manager', 'manager')",
        (venue, manager[0]),
    )
    item = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO menu_items (id, group_id, name)"
        " SELECT %s, group_id, 'Burger' FROM venues WHERE id = %s",
        (item, venue),
    )
    admin_db.execute(
        "INSERT INTO menu_item_prices (venue_id, group_id, item_id, price_cents)"
        " SELECT id, group_id, %s, 1250 FROM venues WHERE id = %s",
        (item, venue),
    )
    admin_db.execute(
        "INSERT INTO shifts (venue_id, opened_by) VALUES (%s, %s)", (venue, manager[0])
    )
    return venue, manager[0], item


# --- taking an order ------------------------------------------------------------------------


def test_a_waiter_at_a_till_takes_an_order_priced_by_the_venue(
    api: ApiClient, admin_db: psycopg.Connection, centrale_waiter: str
) -> None:
    """Given centrale's waiter at a till, when they take two tiramisù and a risotto, then the
    order is placed at centrale's open shift, in their name, at centrale's prices (as they
    are now: other tests change them), and its detail reads back the same."""
    prices_now: dict[str, int] = dict(
        admin_db.execute(
            "SELECT i.name, p.price_cents FROM menu_item_prices p"
            " JOIN menu_items i ON i.id = p.item_id"
            " WHERE p.venue_id = %s AND p.item_id = ANY(%s)",
            (CENTRALE, [TIRAMISU, RISOTTO]),
        ).fetchall()
    )
    response = take(
        api,
        CENTRALE,
        {
            "lines": [
                {"item_id": str(TIRAMISU), "quantity": 2},
                {"item_id": str(RISOTTO), "quantity": 1},
            ],
            "table_label": "C7",
        },
        token=centrale_waiter,
    )

    assert response.status == 201, response.text
    order = response.json()
    assert order["status"] == "placed"
    assert order["staff_member_id"] == str(demo_staff_id(admin_db, "waiter", CENTRALE))
    prices = {line["name"]: line["unit_price_cents"] for line in order["items"]}
    assert prices == prices_now
    assert order["total_cents"] == 2 * prices_now["Tiramisù"] + prices_now["Risotto ai funghi"]
    shift = admin_db.execute(
        "SELECT id FROM shifts WHERE venue_id = %s AND closed_at IS NULL", (CENTRALE,)
    ).fetchone()
    assert shift is not None
    assert order["shift_id"] == str(shift[0])
    detail = api.get(f"/venues/{CENTRALE}/orders/{order['id']}", token=centrale_waiter)
    assert detail.status == 200, detail.text
    assert OrderDetail.model_validate(detail.json()) == OrderDetail.model_validate(order)


def test_a_waiter_can_take_an_order_but_not_set_its_price(
    api: ApiClient, admin_db: psycopg.Connection, centrale_waiter: str
) -> None:
    """Given centrale's waiter at a till, when they send a line with their own unit price,
    then the body is refused (prices are the venue's) and nothing is written; and the price
    route refuses them for lack of EDIT_PRICES."""
    before = count_orders(admin_db, CENTRALE)

    priced = take(
        api,
        CENTRALE,
        {"lines": [{"item_id": str(TIRAMISU), "quantity": 1, "unit_price_cents": 1}]},
        token=centrale_waiter,
    )
    price_change = api.request(
        "PATCH",
        f"/venues/{CENTRALE}/menu/items/{TIRAMISU}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )

    assert_problem(priced, 422, "invalid-body")
    assert_problem(price_change, 403, "permission-denied")
    assert count_orders(admin_db, CENTRALE) == before


@pytest.mark.parametrize(
    ("item", "why"), [(VITELLO, "priced at nord only"), (NEGRONI, "another group's item")]
)
def test_a_centrale_order_cannot_name_what_centrale_does_not_sell(
    api: ApiClient, admin_db: psycopg.Connection, centrale_waiter: str, item: uuid.UUID, why: str
) -> None:
    """Given centrale's waiter at a till, when a line names an item with no centrale price
    (nord's vitello tonnato) or another group's item (bar lume's negroni), then the order is
    refused with item-not-on-menu naming it, and nothing is written."""
    before = count_orders(admin_db, CENTRALE)

    response = take(
        api,
        CENTRALE,
        {
            "lines": [
                {"item_id": str(TIRAMISU), "quantity": 1},
                {"item_id": str(item), "quantity": 1},
            ]
        },
        token=centrale_waiter,
    )

    body = assert_problem(response, 422, "item-not-on-menu")
    assert body["item_ids"] == [str(item)], why
    assert count_orders(admin_db, CENTRALE) == before


def test_no_order_is_taken_without_an_open_shift(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a venue whose shift is closed, when its manager takes an order, then it is
    refused with no-open-shift and no order (nor number) is used."""
    venue, manager, item = service_venue
    admin_db.execute(
        "UPDATE shifts SET closed_at = now(), closed_by = opened_by WHERE venue_id = %s", (venue,)
    )

    response = take(api, venue, {"lines": [{"item_id": str(item), "quantity": 1}]}, as_user=manager)

    assert_problem(response, 409, "no-open-shift")
    assert count_orders(admin_db, venue) == 0


# --- another venue --------------------------------------------------------------------------


def test_a_nord_till_session_cannot_take_read_or_move_a_centrale_order(
    api: ApiClient, admin_db: psycopg.Connection, centrale_waiter: str, nord_manager: str
) -> None:
    """Given a centrale order and nord's manager at a nord till, when the nord till session
    takes an order at centrale, reads the centrale order or moves it, then each is refused
    with till-locked; and at nord's own path the centrale order does not exist."""
    order = take(
        api,
        CENTRALE,
        {"lines": [{"item_id": str(TIRAMISU), "quantity": 1}]},
        token=centrale_waiter,
    ).json()
    before = count_orders(admin_db, CENTRALE)

    taken = take(
        api, CENTRALE, {"lines": [{"item_id": str(TIRAMISU), "quantity": 1}]}, token=nord_manager
    )
    read = api.get(f"/venues/{CENTRALE}/orders/{order['id']}", token=nord_manager)
    moved = move(api, CENTRALE, order["id"], "start", token=nord_manager)
    read_at_nord = api.get(f"/venues/{NORD}/orders/{order['id']}", token=nord_manager)
    moved_at_nord = move(api, NORD, order["id"], "start", token=nord_manager)

    for refused in (taken, read, moved):
        assert_problem(refused, 403, "till-locked")
    assert_problem(read_at_nord, 404, "not-found")
    assert_problem(moved_at_nord, 404, "not-found")
    assert count_orders(admin_db, CENTRALE) == before
    status = admin_db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone()
    assert status == ("placed",)


# --- idempotency and numbers ----------------------------------------------------------------


def test_the_same_idempotency_key_twice_is_one_order(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a till that took an order with a key, when it sends the same key again (after a
    timeout), then it gets the same order back and the venue has one order."""
    venue, manager, item = service_venue
    body = {"lines": [{"item_id": str(item), "quantity": 1}], "idempotency_key": "till-1:0001"}

    first = take(api, venue, body, as_user=manager)
    again = take(api, venue, body, as_user=manager)

    assert first.status == 201, first.text
    assert again.status == 201, again.text
    assert again.json()["id"] == first.json()["id"]
    assert count_orders(admin_db, venue) == 1


def test_the_same_idempotency_key_sent_concurrently_is_one_order(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given eight copies of one order with the same key, when they arrive at once, then all
    eight answers name the same order and the venue has one order, numbered 1."""
    venue, manager, item = service_venue
    api.token_for(manager)
    body = {"lines": [{"item_id": str(item), "quantity": 2}], "idempotency_key": "till-1:0002"}

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: take(api, venue, body, as_user=manager), range(8)))

    assert [a.status for a in answers] == [201] * 8, [a.text for a in answers]
    assert len({a.json()["id"] for a in answers}) == 1
    rows = admin_db.execute("SELECT number FROM orders WHERE venue_id = %s", (venue,)).fetchall()
    assert rows == [(1,)]


def test_orders_taken_concurrently_are_numbered_without_gaps(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a venue with an open shift, when 30 orders are taken at once (every fifth with an
    item the venue does not sell, so it is refused), then the 24 taken are numbered 1..24,
    no gap and no duplicate."""
    venue, manager, item = service_venue
    api.token_for(manager)

    def one(i: int) -> Response:
        line = str(item) if i % 5 else str(NEGRONI)
        return take(api, venue, {"lines": [{"item_id": line, "quantity": 1}]}, as_user=manager)

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(pool.map(one, range(30)))

    assert sorted(a.status for a in answers) == [201] * 24 + [422] * 6
    numbers = sorted(a.json()["number"] for a in answers if a.status == 201)
    assert numbers == list(range(1, 25))


# --- the state machine ----------------------------------------------------------------------


def test_an_order_goes_from_placed_to_closed_and_not_backwards(
    api: ApiClient, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a placed order, when it is started, marked ready, served and closed, then each
    step answers the new status; and starting it again is an illegal transition."""
    venue, manager, item = service_venue
    order = take(
        api, venue, {"lines": [{"item_id": str(item), "quantity": 1}]}, as_user=manager
    ).json()

    seen = []
    for action in ("start", "mark_ready", "serve", "close"):
        response = move(api, venue, order["id"], action, as_user=manager)
        assert response.status == 200, response.text
        seen.append(response.json()["status"])
    again = move(api, venue, order["id"], "start", as_user=manager)

    assert seen == ["preparing", "ready", "served", "closed"]
    body = assert_problem(again, 409, "illegal-transition")
    assert body["status_now"] == "closed"
    assert body["allowed_actions"] == []


def test_a_cancellation_needs_a_reason_and_is_audited(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a placed order, when it is cancelled without a reason, then it is refused; with
    one, it is cancelled and its audit event, naming the reason, is written with it."""
    venue, manager, item = service_venue
    order = take(
        api, venue, {"lines": [{"item_id": str(item), "quantity": 1}]}, as_user=manager
    ).json()

    no_reason = move(api, venue, order["id"], "cancel", as_user=manager)
    cancelled = move(api, venue, order["id"], "cancel", "guest left", as_user=manager)

    assert_problem(no_reason, 422, "reason-required")
    assert cancelled.status == 200, cancelled.text
    events = admin_db.execute(
        "SELECT actor_user_id, details->>'reason' FROM audit_outbox"
        " WHERE action = 'order.cancel' AND target_id = %s",
        (order["id"],),
    ).fetchall()
    assert events == [(manager, "guest left")]


def test_a_waiter_cannot_cancel_an_order_the_kitchen_started(
    api: ApiClient, admin_db: psycopg.Connection, centrale_waiter: str
) -> None:
    """Given a centrale order being prepared, when the waiter at a till cancels it, then they
    are refused for lack of REFUND and the order is still being prepared."""
    order = take(
        api,
        CENTRALE,
        {"lines": [{"item_id": str(TIRAMISU), "quantity": 1}]},
        token=centrale_waiter,
    ).json()
    assert move(api, CENTRALE, order["id"], "start", token=centrale_waiter).status == 200

    response = move(api, CENTRALE, order["id"], "cancel", "changed mind", token=centrale_waiter)

    body = assert_problem(response, 403, "permission-denied")
    assert body["missing_permissions"] == ["REFUND"]
    status = admin_db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone()
    assert status == ("preparing",)


def test_concurrent_transitions_of_one_order_have_one_winner(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a placed order, when eight callers start it at once, then exactly one succeeds,
    the seven others are told illegal-transition, and the order is preparing."""
    venue, manager, item = service_venue
    api.token_for(manager)
    order = take(
        api, venue, {"lines": [{"item_id": str(item), "quantity": 1}]}, as_user=manager
    ).json()

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(
            pool.map(lambda _: move(api, venue, order["id"], "start", as_user=manager), range(8))
        )

    assert sorted(a.status for a in answers) == [200] + [409] * 7
    assert {a.json()["code"] for a in answers if a.status == 409} == {"illegal-transition"}
    status = admin_db.execute("SELECT status FROM orders WHERE id = %s", (order["id"],)).fetchone()
    assert status == ("preparing",)


# --- the queue ------------------------------------------------------------------------------


def test_the_queue_pages_by_status_with_a_cursor(
    api: ApiClient, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given five placed orders and two started, when the queue is read two placed orders at
    a time, then the pages hold the placed orders newest first, each once, and the last page
    says there is no next one."""
    venue, manager, item = service_venue
    ids = [
        take(api, venue, {"lines": [{"item_id": str(item), "quantity": 1}]}, as_user=manager).json()
        for _ in range(7)
    ]
    for order in ids[:2]:
        assert move(api, venue, order["id"], "start", as_user=manager).status == 200

    seen: list[int] = []
    before: int | None = None
    while True:
        query: dict[str, Any] = {"status": "placed", "limit": "2"}
        if before is not None:
            query["before"] = str(before)
        page = api.get(f"/venues/{venue}/orders", as_user=manager, query=query)
        assert page.status == 200, page.text
        seen += [o["number"] for o in page.json()["orders"]]
        before = page.json()["next_before"]
        if before is None:
            break

    assert seen == [7, 6, 5, 4, 3]


# --- invoices -------------------------------------------------------------------------------


def served_order(api: ApiClient, venue: uuid.UUID, manager: uuid.UUID, body: dict[str, Any]) -> str:
    order = take(api, venue, body, as_user=manager).json()
    for action in ("start", "mark_ready", "serve"):
        assert move(api, venue, order["id"], action, as_user=manager).status == 200
    order_id: str = order["id"]
    return order_id


def invoices_of(admin_db: psycopg.Connection, venue: uuid.UUID) -> list[tuple[Any, ...]]:
    return admin_db.execute(
        "SELECT kind, fiscal_year, number, to_jsonb(i)::text FROM invoices i WHERE venue_id = %s"
        " ORDER BY kind, fiscal_year, number",
        (venue,),
    ).fetchall()


def test_fifty_orders_closed_at_once_are_invoiced_1_to_50_and_touch_no_other_venue(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given fifty served orders at one venue and another venue with an invoice of its own,
    when the fifty are closed at once, then their invoices are numbered 1..50 in the fiscal
    year, no gap and no duplicate, each order has exactly one, and the other venue's invoices
    and counter are as they were."""
    venue, manager, item = make_service_venue(admin_db)
    other, other_manager, other_item = make_service_venue(admin_db)
    api.token_for(manager)
    first_other = served_order(
        api, other, other_manager, {"lines": [{"item_id": str(other_item), "quantity": 1}]}
    )
    assert move(api, other, first_other, "close", as_user=other_manager).status == 200
    other_before = invoices_of(admin_db, other)
    counter_before = admin_db.execute(
        "SELECT * FROM invoice_counters WHERE venue_id = %s", (other,)
    ).fetchall()
    orders = [
        served_order(api, venue, manager, {"lines": [{"item_id": str(item), "quantity": 1}]})
        for _ in range(50)
    ]

    with ThreadPoolExecutor(max_workers=10) as pool:
        answers = list(
            pool.map(lambda order: move(api, venue, order, "close", as_user=manager), orders)
        )

    assert [a.status for a in answers] == [200] * 50, [a.text for a in answers if a.status != 200]
    numbers = sorted(a.json()["invoice"]["number"] for a in answers)
    assert numbers == list(range(1, 51))
    rows = admin_db.execute(
        "SELECT number, order_id FROM invoices WHERE venue_id = %s AND kind = 'invoice'",
        (venue,),
    ).fetchall()
    assert sorted(number for number, _ in rows) == list(range(1, 51))
    assert sorted(str(order) for _, order in rows) == sorted(orders)
    assert invoices_of(admin_db, other) == other_before
    assert (
        admin_db.execute("SELECT * FROM invoice_counters WHERE venue_id = %s", (other,)).fetchall()
        == counter_before
    )


def test_an_invoice_prints_the_venues_tax_details_and_its_vat_by_rate(
    api: ApiClient, admin_db: psycopg.Connection, service_venue: tuple[uuid.UUID, ...]
) -> None:
    """Given a venue with its legal name, VAT number and address set, a default VAT rate of
    10 % and a drink at 22 %, when an order of two burgers (12.50) and a drink (5.00) is
    closed, then its invoice names the venue's tax details and has one VAT line per rate,
    amounts including VAT, and reads back the same in the venue's list."""
    venue, manager, item = service_venue
    drink = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO menu_items (id, group_id, name, vat_rate_bps)"
        " SELECT %s, group_id, 'Spritz', 2200 FROM venues WHERE id = %s",
        (drink, venue),
    )
    admin_db.execute(
        "INSERT INTO menu_item_prices (venue_id, group_id, item_id, price_cents)"
        " SELECT id, group_id, %s, 500 FROM venues WHERE id = %s",
        (drink, venue),
    )
    change = api.patch(
        f"/venues/{venue}/settings",
        as_user=manager,
        json_body={
            "legal_name": "Test Venue S.r.l.",
            "vat_number": "IT01234567890",
            "tax_address": "Via Roma 1, Milano",
        },
    )
    assert change.status == 200, change.text
    order = served_order(
        api,
        venue,
        manager,
        {"lines": [{"item_id": str(item), "quantity": 2}, {"item_id": str(drink), "quantity": 1}]},
    )

    closed = move(api, venue, order, "close", as_user=manager)

    assert closed.status == 200, closed.text
    invoice_id = closed.json()["invoice"]["id"]
    invoice = api.get(f"/venues/{venue}/invoices/{invoice_id}", as_user=manager).json()
    assert invoice["seller"] == {
        "legal_name": "Test Venue S.r.l.",
        "vat_number": "IT01234567890",
        "address": "Via Roma 1, Milano",
    }
    assert invoice["vat_lines"] == [
        {"rate_bps": 1000, "net_cents": 2273, "vat_cents": 227, "gross_cents": 2500},
        {"rate_bps": 2200, "net_cents": 410, "vat_cents": 90, "gross_cents": 500},
    ]
    assert (invoice["net_cents"], invoice["vat_cents"], invoice["gross_cents"]) == (
        2683,
        317,
        3000,
    )
    listed = api.get(f"/venues/{venue}/invoices", as_user=manager).json()["invoices"]
    assert listed == [invoice]


def test_a_correction_is_a_credit_note_never_an_edit(
    api: ApiClient,
    admin_db: psycopg.Connection,
    runtime_db: psycopg.Connection,
    service_venue: tuple[uuid.UUID, ...],
) -> None:
    """Given a closed order's invoice, when the manager credits it, then a credit note 1 of
    the year negates it in full with the reason and an audit event; crediting it again is
    refused; and the venue role can neither update nor delete an invoice."""
    venue, manager, item = service_venue
    order = served_order(api, venue, manager, {"lines": [{"item_id": str(item), "quantity": 1}]})
    invoice = move(api, venue, order, "close", as_user=manager).json()["invoice"]
    path = f"/venues/{venue}/invoices/{invoice['id']}/credit-notes"

    credited = api.request("POST", path, as_user=manager, json_body={"reason": "wrong table"})
    again = api.request("POST", path, as_user=manager, json_body={"reason": "again"})

    assert credited.status == 201, credited.text
    note = credited.json()
    assert (note["kind"], note["number"], note["corrects_invoice_id"]) == (
        "credit_note",
        1,
        invoice["id"],
    )
    assert note["gross_cents"] == -1250
    assert note["reason"] == "wrong table"
    assert_problem(again, 409, "already-credited")
    events = admin_db.execute(
        "SELECT actor_user_id, details->>'reason' FROM audit_outbox"
        " WHERE action = 'invoice.credited' AND target_id = %s",
        (invoice["id"],),
    ).fetchall()
    assert events == [(manager, "wrong table")]
    for statement in (
        "UPDATE invoices SET gross_cents = 0 WHERE id = %s",
        "DELETE FROM invoices WHERE id = %s",
    ):
        with pytest.raises(psycopg.errors.InsufficientPrivilege), runtime_db.transaction():
            runtime_db.execute(statement, (invoice["id"],))


def test_a_waiter_at_a_till_cannot_credit_or_read_invoices(
    api: ApiClient, centrale_waiter: str
) -> None:
    """Given centrale's waiter (no REFUND, no VIEW_SALES), when they credit an invoice or read
    the invoices in the admin app, then each is refused with permission-denied; the till
    reaches neither route."""
    invoices = api.get(f"/venues/{CENTRALE}/invoices", as_user=USER["waiter"].id)
    credit = api.request(
        "POST",
        f"/venues/{CENTRALE}/invoices/{uuid.uuid4()}/credit-notes",
        as_user=USER["waiter"].id,
        json_body={"reason": "no"},
    )
    at_till = api.get(f"/venues/{CENTRALE}/invoices", token=centrale_waiter)

    assert_problem(invoices, 403, "permission-denied")
    assert_problem(credit, 403, "permission-denied")
    assert at_till.status == 403, at_till.text
