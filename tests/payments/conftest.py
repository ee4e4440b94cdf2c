"""The payments tests' world: the session's runtime pointed at the fake Stripe, the
processor on the app_payments role, and centrale onboarded through the routes."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from infra.local import postgres
from infra.local.seed import CENTRALE, USER, menu_item_id
from tests.conftest import ensure_open_shift

OWNER = USER["owner"].id
WAITER = USER["waiter"].id
REGIONAL = USER["regional"].id
TAGLIATELLE = menu_item_id("Tagliatelle al ragù")  # 1400 at centrale
TIRAMISU = menu_item_id("Tiramisù")  # 700 at centrale


@pytest.fixture
def open_shift(database: postgres.Database) -> None:
    """Centrale serves: a shift is open (other tests may have closed it)."""
    ensure_open_shift(database.admin_url, CENTRALE)


def price(admin_db: psycopg.Connection, item: uuid.UUID) -> int:
    """Centrale's price of ``item`` now (other tests change prices)."""
    row = admin_db.execute(
        "SELECT price_cents FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (CENTRALE, item),
    ).fetchone()
    assert row is not None
    return int(row[0])


def new_key() -> str:
    return f"test-{uuid.uuid4().hex}"
