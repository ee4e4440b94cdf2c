"""The group's recipe library and supplier list: read by the staff of every venue of the
group with the flag, edited by the group's owners, never visible to another group."""

from __future__ import annotations

import json
import uuid

import psycopg
import pytest

from infra.local.client import ApiClient
from infra.local.seed import (
    CENTRALE,
    GROUP_IO,
    LUME,
    NORD,
    USER,
    menu_item_id,
    recipe_id,
    supplier_id,
)
from infra.migrate import OWNER_ROLE
from tenancy.permissions import Permission, Role
from tests.conftest import ROOT, Bind
from tests.support.demo_users import attach, new_user

LUME_OWNER = USER["owner_lume"].id
TIRAMISU = recipe_id("Tiramisù")
CASEIFICIO = supplier_id("Caseificio Valle")
IO_MARKERS = ["Tiramisù", "mascarpone", "Caseificio", "Pastificio", "Tagliatelle"]

NEW_TIRAMISU = {
    "ingredients": [
        {"name": "mascarpone", "quantity": 500, "unit": "g"},
        {"name": "savoiardi", "quantity": 300, "unit": "g"},
    ],
    "method": "Layer, rest, dust.",
    "allergens": ["milk", "eggs", "cereals_containing_gluten"],
}


def io_library(admin_db: psycopg.Connection) -> str:
    rows = admin_db.execute(
        "SELECT to_jsonb(r)::text FROM recipes r WHERE group_id = %(g)s"
        " UNION ALL SELECT to_jsonb(s)::text FROM suppliers s WHERE group_id = %(g)s ORDER BY 1",
        {"g": GROUP_IO},
    ).fetchall()
    return json.dumps([r[0] for r in rows])


@pytest.fixture
def io_owner(admin_db: psycopg.Connection) -> uuid.UUID:
    """A new owner of centrale (io osteria), for one test."""
    user_id = new_user(admin_db, "Owner of io osteria")
    attach(admin_db, user_id, CENTRALE, Role.OWNER)
    return user_id


def test_a_user_of_bar_lume_sees_none_of_io_osterias_recipes_or_suppliers(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given lume's owner (every flag, at bar lume), when they list the library at lume and
    ask there for io osteria's recipe and supplier by id, or try to change them, then they
    see lume's own only, get 404 for io osteria's, and nothing of io osteria changes."""
    before = io_library(admin_db)

    recipes = api.get(f"/venues/{LUME}/recipes", as_user=LUME_OWNER)
    suppliers = api.get(f"/venues/{LUME}/suppliers", as_user=LUME_OWNER)
    by_id = [
        api.get(f"/venues/{LUME}/recipes/{TIRAMISU}", as_user=LUME_OWNER),
        api.get(f"/venues/{LUME}/suppliers/{CASEIFICIO}", as_user=LUME_OWNER),
        api.request(
            "PUT", f"/venues/{LUME}/recipes/{TIRAMISU}", as_user=LUME_OWNER, json_body=NEW_TIRAMISU
        ),
        api.request(
            "PUT",
            f"/venues/{LUME}/suppliers/{CASEIFICIO}",
            as_user=LUME_OWNER,
            json_body={"name": "taken over"},
        ),
    ]
    at_centrale = api.get(f"/venues/{CENTRALE}/recipes/{TIRAMISU}", as_user=LUME_OWNER)

    assert recipes.status == 200, recipes.text
    assert [r["item_name"] for r in recipes.json()["recipes"]] == ["Negroni"]
    assert [s["name"] for s in suppliers.json()["suppliers"]] == ["Distillati Lume"]
    assert [r.status for r in by_id] == [404, 404, 404, 404]
    assert {r.json()["code"] for r in by_id} == {"not-found"}
    assert at_centrale.status == 403
    assert at_centrale.json()["code"] == "venue-access-denied"
    for response in [recipes, suppliers, *by_id, at_centrale]:
        for marker in IO_MARKERS:
            assert marker not in response.text
    assert io_library(admin_db) == before


def test_row_level_security_shows_the_library_of_the_bound_group_only(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given the venue role with lume genuinely bound for its owner, when a query forgets to
    name a group, then it still sees bar lume's recipes and suppliers only."""
    with runtime_db.transaction():
        bind(runtime_db, user_id=LUME_OWNER, venue_id=LUME)
        groups = runtime_db.execute(
            "SELECT DISTINCT group_id FROM recipes UNION SELECT DISTINCT group_id FROM suppliers"
        ).fetchall()
        io_rows = runtime_db.execute(
            "SELECT count(*) FROM recipes WHERE id = %s", (TIRAMISU,)
        ).fetchone()

    assert len(groups) == 1
    assert GROUP_IO not in {g for (g,) in groups}
    assert io_rows == (0,)


def test_staff_of_every_venue_of_the_group_read_it_with_their_flag(api: ApiClient) -> None:
    """Given the casual at nord (VIEW_ORDERS only) and the head chef at centrale (EDIT_MENU),
    when they read the library, then both read the recipes; only the head chef the
    suppliers, and the casual is told which flag is missing."""
    casual = USER["casual"].id
    head_chef = USER["head_chef"].id

    casual_recipe = api.get(f"/venues/{NORD}/recipes/{TIRAMISU}", as_user=casual)
    casual_suppliers = api.get(f"/venues/{NORD}/suppliers", as_user=casual)
    chef_suppliers = api.get(f"/venues/{CENTRALE}/suppliers", as_user=head_chef)

    assert casual_recipe.status == 200, casual_recipe.text
    assert casual_recipe.json()["item_name"] == "Tiramisù"
    assert "eggs" in casual_recipe.json()["allergens"]
    assert casual_suppliers.status == 403
    assert casual_suppliers.json()["missing_permissions"] == ["EDIT_MENU"]
    assert {s["name"] for s in chef_suppliers.json()["suppliers"]} == {
        "Caseificio Valle",
        "Pastificio Nord",
    }


def test_only_the_groups_owners_edit_it(api: ApiClient, admin_db: psycopg.Connection) -> None:
    """Given the regional manager of centrale and nord (every flag but payments and the
    group's), when they change a recipe or add a supplier, then they are refused naming
    MANAGE_GROUP and nothing changes."""
    before = io_library(admin_db)
    regional = USER["regional"].id

    responses = [
        api.request(
            "PUT", f"/venues/{NORD}/recipes/{TIRAMISU}", as_user=regional, json_body=NEW_TIRAMISU
        ),
        api.request(
            "POST", f"/venues/{CENTRALE}/suppliers", as_user=regional, json_body={"name": "x"}
        ),
    ]

    assert [r.status for r in responses] == [403, 403]
    assert all(r.json()["missing_permissions"] == ["MANAGE_GROUP"] for r in responses)
    assert io_library(admin_db) == before


def test_an_owner_edits_the_library_for_every_venue_of_the_group_with_its_audit_event(
    api: ApiClient, admin_db: psycopg.Connection, io_owner: uuid.UUID
) -> None:
    """Given an owner at centrale, when they change the tiramisù's recipe and add a
    supplier there, then nord's staff read the change, and each write has its audit event
    in the same transaction with before and after (what a dish carries under 'carries',
    never an 'allergens' key)."""
    original = api.get(f"/venues/{CENTRALE}/recipes/{TIRAMISU}", as_user=io_owner).json()
    try:
        changed = api.request(
            "PUT",
            f"/venues/{CENTRALE}/recipes/{TIRAMISU}",
            as_user=io_owner,
            json_body=NEW_TIRAMISU,
        )
        added = api.request(
            "POST",
            f"/venues/{CENTRALE}/suppliers",
            as_user=io_owner,
            json_body={"name": "Uova Fresche", "contact": "+39 0000", "supplies": ["eggs"]},
        )
        at_nord = api.get(f"/venues/{NORD}/recipes/{TIRAMISU}", as_user=USER["casual"].id)
        supplier_at_nord = api.get(
            f"/venues/{NORD}/suppliers/{added.json()['id']}", as_user=USER["manager"].id
        )
        events = admin_db.execute(
            "SELECT action, venue_id, target_id, details FROM audit_outbox"
            " WHERE actor_user_id = %s ORDER BY occurred_at, action",
            (io_owner,),
        ).fetchall()
    finally:
        admin_db.execute(
            "UPDATE recipes SET method = %s, ingredients = %s, allergens = %s WHERE id = %s",
            (
                original["method"],
                json.dumps(original["ingredients"]),
                original["allergens"],
                TIRAMISU,
            ),
        )

    assert changed.status == 200, changed.text
    assert added.status == 201, added.text
    assert at_nord.json()["method"] == "Layer, rest, dust."
    assert supplier_at_nord.json()["name"] == "Uova Fresche"
    recipe_event = next(e for e in events if e[0] == "library.recipe_changed")
    assert recipe_event[1] == CENTRALE
    assert recipe_event[2] == str(TIRAMISU)
    assert recipe_event[3]["before"]["method"] == original["method"]
    assert recipe_event[3]["after"]["carries"] == ["cereals_containing_gluten", "eggs", "milk"]
    assert "allergens" not in json.dumps(recipe_event[3])
    supplier_event = next(e for e in events if e[0] == "library.supplier_created")
    assert supplier_event[3] == {
        "before": None,
        "after": {"name": "Uova Fresche", "contact": "+39 0000", "supplies": ["eggs"]},
    }


def test_a_recipe_is_for_an_item_of_the_groups_own_catalogue(
    api: ApiClient, admin_db: psycopg.Connection, io_owner: uuid.UUID
) -> None:
    """Given an owner at centrale, when they add a recipe for bar lume's Negroni or a second
    one for the tiramisù, then the first is 404 (not in their catalogue), the second 409."""
    before = io_library(admin_db)

    lume_item = api.request(
        "POST",
        f"/venues/{CENTRALE}/recipes",
        as_user=io_owner,
        json_body={**NEW_TIRAMISU, "item_id": str(menu_item_id("Negroni"))},
    )
    second = api.request(
        "POST",
        f"/venues/{CENTRALE}/recipes",
        as_user=io_owner,
        json_body={**NEW_TIRAMISU, "item_id": str(menu_item_id("Tiramisù"))},
    )

    assert (lume_item.status, lume_item.json()["code"]) == (404, "not-found")
    assert (second.status, second.json()["code"]) == (409, "recipe-exists")
    assert io_library(admin_db) == before


def test_the_migration_gives_existing_owners_the_new_flag(
    admin_db: psycopg.Connection, io_owner: uuid.UUID
) -> None:
    """Given an owner attached before MANAGE_GROUP existed, when migration 0010's owner
    statement runs as the migrations do (the tables' owner, held by forced row-level
    security), then the owner holds it, other roles do not, and the table is forced again."""
    text = (ROOT / "infra/migrations/0010_group_library_and_diners.sql").read_text()
    statements = text[text.index("ALTER TABLE venue_attachments NO FORCE") :]
    statements = statements[: statements.index("-- ---")]
    flag = int(Permission.MANAGE_GROUP)

    with admin_db.transaction(force_rollback=True):
        admin_db.execute(
            "UPDATE venue_attachments SET permissions = permissions & ~%s::bigint"
            " WHERE user_id = %s",
            (flag, io_owner),
        )
        admin_db.execute(f"SET LOCAL ROLE {OWNER_ROLE}")
        admin_db.execute(statements.encode())
        admin_db.execute("RESET ROLE")
        owner = admin_db.execute(
            "SELECT permissions & %s FROM venue_attachments WHERE user_id = %s", (flag, io_owner)
        ).fetchone()
        regional = admin_db.execute(
            "SELECT permissions & %s FROM venue_attachments WHERE user_id = %s",
            (flag, USER["regional"].id),
        ).fetchall()
        forced = admin_db.execute(
            "SELECT relforcerowsecurity FROM pg_class WHERE relname = 'venue_attachments'"
        ).fetchone()

    assert owner == (flag,)
    assert regional == [(0,), (0,)]
    assert forced == (True,)
