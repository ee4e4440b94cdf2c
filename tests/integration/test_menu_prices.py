"""Per-venue prices of the group's shared catalogue."""

from __future__ import annotations

import psycopg

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, NORD, USER, menu_item_id
from menus.logic import change_price
from tests.conftest import Bind

RISOTTO = menu_item_id("Risotto ai funghi")


def price_at(admin_db: psycopg.Connection, venue: object, item: object) -> int:
    row = admin_db.execute(
        "SELECT price_cents FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (venue, item),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_price_change_at_nord_leaves_centrale_unchanged(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the risotto priced at both venues, when nord's manager changes nord's price,
    then nord has the new price, centrale keeps its own, and the change is audited."""
    centrale_before = price_at(admin_db, CENTRALE, RISOTTO)
    nord_before = price_at(admin_db, NORD, RISOTTO)

    response = api.patch(
        f"/venues/{NORD}/menu/items/{RISOTTO}",
        as_user=USER["manager"].id,
        json_body={"price_cents": nord_before + 50},
    )

    assert response.status == 200, response.text
    assert response.json()["price_cents"] == nord_before + 50
    assert response.json()["currency"] == "EUR"
    assert price_at(admin_db, NORD, RISOTTO) == nord_before + 50
    assert price_at(admin_db, CENTRALE, RISOTTO) == centrale_before
    event = admin_db.execute(
        "SELECT venue_id, actor_user_id, details FROM audit_outbox"
        " WHERE action = 'menu.price_changed' AND target_id = %s ORDER BY occurred_at DESC LIMIT 1",
        (str(RISOTTO),),
    ).fetchone()
    assert event == (
        NORD,
        USER["manager"].id,
        {"previous_price_cents": nord_before, "price_cents": nord_before + 50},
    )


def test_the_price_and_its_audit_event_commit_or_vanish_together(
    runtime_db: psycopg.Connection, admin_db: psycopg.Connection, bind: Bind
) -> None:
    """Given a price change whose transaction is rolled back (as any later failure in the
    request would do), then neither the price nor its audit event remains."""
    before = price_at(admin_db, CENTRALE, RISOTTO)
    events_before = admin_db.execute("SELECT count(*) FROM audit_outbox").fetchone()

    with runtime_db.transaction(force_rollback=True):
        bind(runtime_db, user_id=USER["head_chef"].id, venue_id=CENTRALE)
        change_price(
            runtime_db,
            venue_id=CENTRALE,
            item_id=RISOTTO,
            price_cents=before + 999,
            actor_user_id=USER["head_chef"].id,
        )
        seen = runtime_db.execute(
            "SELECT price_cents FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
            (CENTRALE, RISOTTO),
        ).fetchone()
        assert seen == (before + 999,)

    assert price_at(admin_db, CENTRALE, RISOTTO) == before
    assert admin_db.execute("SELECT count(*) FROM audit_outbox").fetchone() == events_before
