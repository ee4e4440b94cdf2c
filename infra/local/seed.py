"""Demo data for `make dev` and the tests: the io osteria group (venues centrale and nord),
its people, menu and orders, plus another owner's bar to prove groups stay apart."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING

import psycopg

from tenancy.permissions import ROLE_DEFAULTS, Role

if TYPE_CHECKING:
    from customers.config import DinerKeys
    from tenancy.mail import Mailer

_NS = uuid.UUID("5d0c5a52-8f0e-4f43-9a55-1b0c8b7d8e10")


def demo_id(name: str) -> uuid.UUID:
    """Stable ids, so docs, tests and a rerun of the seed all agree."""
    return uuid.uuid5(_NS, name)


@dataclass(frozen=True)
class DemoUser:
    key: str
    email: str
    name: str
    #: venue slug -> role
    attachments: dict[str, Role]
    platform_admin: bool = False

    @property
    def id(self) -> uuid.UUID:
        return demo_id(f"user:{self.key}")


GROUP_IO = demo_id("group:io-osteria")
GROUP_LUME = demo_id("group:bar-lume")
CENTRALE = demo_id("venue:centrale")
NORD = demo_id("venue:nord")
LUME = demo_id("venue:lume")

VENUES = {
    "centrale": (CENTRALE, GROUP_IO, "io osteria centrale"),
    "nord": (NORD, GROUP_IO, "io osteria nord"),
    "lume": (LUME, GROUP_LUME, "bar lume"),
}

USERS = [
    DemoUser(
        "owner",
        "elena@io-osteria.example",
        "Elena (owner, io osteria)",
        {"centrale": Role.OWNER, "nord": Role.OWNER},
    ),
    DemoUser(
        "head_chef",
        "giulia@io-osteria.example",
        "Giulia (head chef, centrale)",
        {"centrale": Role.HEAD_CHEF},
    ),
    DemoUser(
        "manager", "marco@io-osteria.example", "Marco (manager, nord)", {"nord": Role.MANAGER}
    ),
    DemoUser(
        "regional",
        "sara@io-osteria.example",
        "Sara (regional manager)",
        {"centrale": Role.REGIONAL_MANAGER, "nord": Role.REGIONAL_MANAGER},
    ),
    DemoUser(
        "waiter", "luca@io-osteria.example", "Luca (waiter, centrale)", {"centrale": Role.WAITER}
    ),
    DemoUser("casual", "anna@io-osteria.example", "Anna (casual, nord)", {"nord": Role.CASUAL}),
    DemoUser(
        "owner_lume", "piero@bar-lume.example", "Piero (owner, bar lume)", {"lume": Role.OWNER}
    ),
    DemoUser(
        "platform_admin",
        "ops@venue-platform.example",
        "Platform operations",
        {},
        platform_admin=True,
    ),
]
USER = {user.key: user for user in USERS}

# name, description, group, {venue: price_cents}
MENU = [
    (
        "Tagliatelle al ragù",
        "Fresh egg pasta, slow-cooked ragù",
        GROUP_IO,
        {"centrale": 1400, "nord": 1500},
    ),
    ("Risotto ai funghi", "Carnaroli, porcini", GROUP_IO, {"centrale": 1600, "nord": 1650}),
    ("Tiramisù", "House recipe", GROUP_IO, {"centrale": 700, "nord": 750}),
    ("Negroni", "Gin, vermouth, bitter", GROUP_LUME, {"lume": 900}),
]


#: name -> (category, allergens): the catalogue's details, set by the group's owner.
MENU_DETAILS = {
    "Tagliatelle al ragù": ("primi", ["cereals_containing_gluten", "eggs", "celery"]),
    "Risotto ai funghi": ("primi", ["milk"]),
    "Tiramisù": ("dolci", ["cereals_containing_gluten", "eggs", "milk"]),
    "Negroni": ("cocktails", []),
}
#: Items the owner adds through the catalogue route's logic: name, description, category,
#: allergens, {venue: price_cents}.
MENU_ADDED = [
    (
        "Bruschetta",
        "Grilled bread, tomato, basil",
        "antipasti",
        ["cereals_containing_gluten"],
        {"centrale": 600},
    ),
    ("Vitello tonnato", "Veal, tuna sauce, capers", "antipasti", ["fish", "eggs"], {"nord": 1200}),
    ("Spritz", "Aperol, prosecco, soda", "bar", ["sulphites"], {"centrale": 800, "nord": 850}),
]


def menu_item_id(name: str) -> uuid.UUID:
    return demo_id(f"menu:{name}")


ORDERS_PER_VENUE = 12

#: Every demo account's password: it passes the privileged policy and is in no breach list.
DEMO_PASSWORD = "Centrale&Nord-demo-2026"  # noqa: S105 - demo data
#: The platform admin's authenticator secret (MFA is required for platform admins), so the
#: local sign-in command can produce its codes.
DEMO_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"  # noqa: S105 - demo data
#: Local AES-256-GCM key for sealed secrets; never used outside `make dev` and tests.
LOCAL_APP_KEYS = "local1:" + "bG9jYWwtZGV2ZWxvcG1lbnQta2V5LTMyLWJ5dGVzISE="
#: Local salt of diners' identities (HMAC-SHA256 of a normalised email or phone); never
#: used outside `make dev` and tests.
LOCAL_IDENTITY_SALT = "bG9jYWwtZGV2ZWxvcG1lbnQtaWRlbnRpdHktc2FsdC0zMg=="
SPA_CLIENT_ID = "admin-spa"
SPA_REDIRECT_URIS = ["http://127.0.0.1:5173/callback", "http://localhost:5173/callback"]
TILL_CLIENT_ID = "till-centrale-1"
TILL_CLIENT_SECRET = "local-till-secret-centrale-1"  # noqa: S105 - demo data
TILL_NORD_CLIENT_ID = "till-nord-1"
TILL_NORD_CLIENT_SECRET = "local-till-secret-nord-1"  # noqa: S105 - demo data
#: Local pepper of staff PIN digests (tenancy.pins); never used outside `make dev` and tests.
LOCAL_PIN_PEPPER = "local1:" + "bG9jYWwtcGluLXBlcHBlci1rZXktMzItYnl0ZXMhISE="
#: Each demo person's till PIN, the same at every venue where they are staff (a PIN is
#: unique within a venue): README.md lists them.
DEMO_PINS = {
    "head_chef": "1111",
    "waiter": "2222",
    "regional": "3333",
    "manager": "4444",
    "casual": "5555",
    "owner_lume": "6666",
    "owner": "7777",
}


def seed(
    admin_url: str,
    *,
    orders_per_venue: int = ORDERS_PER_VENUE,
    mailer: Mailer | None = None,
    issuer_url: str | None = None,
) -> None:
    """Insert the demo data; running it again adds only what a newer schema brought. The
    demo invitation's mail goes to ``mailer`` (`make dev`'s mailbox; dropped when None),
    its link to the issuer at ``issuer_url``."""
    with psycopg.connect(admin_url) as conn:
        if not conn.execute("SELECT 1 FROM venues WHERE id = %s", (CENTRALE,)).fetchone():
            _seed_venues(conn, orders_per_venue)
        if not conn.execute("SELECT 1 FROM shifts LIMIT 1").fetchone():
            _seed_service(conn)
        if not conn.execute(
            "SELECT 1 FROM oauth_clients WHERE client_id = %s", (SPA_CLIENT_ID,)
        ).fetchone():
            _seed_identity(conn)
        if not conn.execute("SELECT 1 FROM recipes LIMIT 1").fetchone():
            _seed_library(conn)
        if not conn.execute("SELECT 1 FROM diners LIMIT 1").fetchone():
            _seed_diners(conn)
        if not conn.execute(
            "SELECT 1 FROM oauth_clients WHERE client_id = %s", (TILL_NORD_CLIENT_ID,)
        ).fetchone():
            _seed_tills(conn)
        if not conn.execute("SELECT 1 FROM invoices LIMIT 1").fetchone():
            _seed_orders(conn)
        if not conn.execute("SELECT 1 FROM venue_invitations LIMIT 1").fetchone():
            _seed_invitation(conn, mailer, issuer_url)


def _seed_venues(conn: psycopg.Connection, orders_per_venue: int) -> None:
    """The groups, venues, people, menu and orders."""
    conn.execute(
        "INSERT INTO venue_groups (id, name) VALUES (%s, 'io osteria'), (%s, 'bar lume')",
        (GROUP_IO, GROUP_LUME),
    )
    for slug, (venue_id, group_id, name) in VENUES.items():
        conn.execute(
            "INSERT INTO venues (id, group_id, name, slug) VALUES (%s, %s, %s, %s)",
            (venue_id, group_id, name, slug),
        )
        conn.execute("INSERT INTO venue_settings (venue_id) VALUES (%s)", (venue_id,))
    # Attachments and staff go through the routes' own rules (and audit events), acting as
    # the platform: every flag, no person.
    from staff.logic import PLATFORM, add_staff_member, attach

    for user in USERS:
        conn.execute(
            "INSERT INTO users (id, email, display_name, is_platform_admin)"
            " VALUES (%s, %s, %s, %s)",
            (user.id, user.email, user.name, user.platform_admin),
        )
        for slug, role in user.attachments.items():
            venue_id = VENUES[slug][0]
            attach(
                conn,
                venue_id=venue_id,
                email=user.email,
                role=role,
                permissions=None,
                actor=PLATFORM,
            )
            add_staff_member(
                conn,
                venue_id=venue_id,
                display_name=user.name.split(" (")[0],
                role=role,
                user_id=user.id,
                actor=PLATFORM,
            )
    _seed_identity(conn)
    for name, description, group_id, prices in MENU:
        item_id = menu_item_id(name)
        conn.execute(
            "INSERT INTO menu_items (id, group_id, name, description) VALUES (%s, %s, %s, %s)",
            (item_id, group_id, name, description),
        )
        for slug, price in prices.items():
            conn.execute(
                "INSERT INTO menu_item_prices (venue_id, group_id, item_id, price_cents)"
                " VALUES (%s, %s, %s, %s)",
                (VENUES[slug][0], group_id, item_id, price),
            )
    for slug in VENUES:
        add_orders(conn, slug, orders_per_venue)


def add_orders(conn: psycopg.Connection, slug: str, count: int) -> None:
    """``count`` more orders at the venue, each with two lines from its own menu."""
    venue_id, group_id, _ = VENUES[slug]
    menu = [(name, prices[slug]) for name, _, g, prices in MENU if g == group_id and slug in prices]
    row = conn.execute(
        "SELECT coalesce(max(number), 0) FROM orders WHERE venue_id = %s", (venue_id,)
    ).fetchone()
    first = (row[0] if row else 0) + 1
    start = dt.datetime(2026, 11, 20, 19, 0, tzinfo=dt.UTC)
    statuses = ["placed", "preparing", "ready", "served", "closed"]
    for number in range(first, first + count):
        lines = [menu[number % len(menu)], menu[(number + 1) % len(menu)]]
        inserted = conn.execute(
            "INSERT INTO orders (id, venue_id, number, status, table_label, total_cents,"
            " created_at) VALUES (%s, %s, %s, %s, %s, %s, %s) RETURNING id",
            (
                order_id(slug, number),
                venue_id,
                number,
                statuses[number % len(statuses)],
                f"{slug[:1].upper()}{number % 20 + 1}",
                sum(price for _, price in lines),
                start + dt.timedelta(minutes=number),
            ),
        ).fetchone()
        assert inserted is not None
        for name, price in lines:
            conn.execute(
                "INSERT INTO order_items (order_id, venue_id, item_id, name, quantity,"
                " unit_price_cents) VALUES (%s, %s, %s, %s, 1, %s)",
                (inserted[0], venue_id, menu_item_id(name), name, price),
            )


def order_id(slug: str, number: int) -> uuid.UUID:
    """The id of the demo order ``number`` of the venue ``slug`` (made by ``add_orders``)."""
    return demo_id(f"order:{slug}:{number}")


def _seed_service(conn: psycopg.Connection) -> None:
    """The day at centrale and nord, through the routes' own logic: the owner completes the
    catalogue, the venues price it, the shifts open, the orders join them, stock is counted
    and nord sets its service charge. (As the superuser: row-level security does not apply,
    the rules of the logic do.)"""
    from menus.logic import add_catalogue_item, change_catalogue_item, change_price
    from menus.models import CatalogueItemChange, NewCatalogueItem
    from settings.logic import change_settings
    from settings.models import SettingsChange
    from shifts.logic import open_shift
    from stock.logic import record_count

    owner = USER["owner"].id
    conn.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
        (owner, USER["owner"].email, USER["owner"].name),
    )
    for slug in ("centrale", "nord"):
        conn.execute(
            "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
            " VALUES (%s, %s, 'owner', %s) ON CONFLICT DO NOTHING",
            (VENUES[slug][0], owner, int(ROLE_DEFAULTS[Role.OWNER])),
        )
    conn.execute(
        "UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE id = %s),"
        " password_changed_at = now() WHERE id = %s AND password_hash IS NULL",
        (USER["head_chef"].id, owner),
    )

    def as_owner() -> str:
        return "owner"

    for name, (category, allergens) in MENU_DETAILS.items():
        venue = LUME if name == "Negroni" else CENTRALE
        actor = USER["owner_lume"].id if venue == LUME else owner
        change_catalogue_item(
            conn,
            venue_id=venue,
            item_id=menu_item_id(name),
            change=CatalogueItemChange.model_validate(
                {"category": category, "allergens": allergens}
            ),
            actor_user_id=actor,
            caller_role=as_owner,
        )
    price_setter = {"centrale": USER["head_chef"].id, "nord": USER["manager"].id}
    for name, description, category, allergens, prices in MENU_ADDED:
        item = add_catalogue_item(
            conn,
            venue_id=CENTRALE,
            item=NewCatalogueItem.model_validate(
                {
                    "name": name,
                    "description": description,
                    "category": category,
                    "allergens": allergens,
                }
            ),
            actor_user_id=owner,
            caller_role=as_owner,
        )
        for slug, price in prices.items():
            change_price(
                conn,
                venue_id=VENUES[slug][0],
                item_id=item.id,
                price_cents=price,
                actor_user_id=price_setter[slug],
            )
    for slug, opener in (("centrale", "head_chef"), ("nord", "manager")):
        venue_id = VENUES[slug][0]
        shift = open_shift(conn, venue_id=venue_id, actor_user_id=USER[opener].id)
        # The orders of the day were taken during it, by the venue's floor staff.
        conn.execute(
            "UPDATE orders SET shift_id = %s, staff_member_id = (SELECT m.id FROM staff_members m"
            " WHERE m.venue_id = %s AND m.user_id = %s) WHERE venue_id = %s",
            (
                shift.id,
                venue_id,
                USER["waiter" if slug == "centrale" else "manager"].id,
                venue_id,
            ),
        )
    for name, quantity in (("Tiramisù", 14), ("Risotto ai funghi", 22)):
        record_count(
            conn,
            venue_id=CENTRALE,
            item_id=menu_item_id(name),
            quantity=quantity,
            day=None,
            actor_user_id=USER["head_chef"].id,
        )
    change_settings(
        conn,
        venue_id=NORD,
        change=SettingsChange.model_validate({"service_charge_bps": 1000, "tip_policy": "pooled"}),
        actor_user_id=USER["manager"].id,
    )


def _seed_identity(conn: psycopg.Connection) -> None:
    """Passwords, the SPA and a till client, and the platform admin's second factor."""
    import hashlib

    from auth.passwords import hash_password
    from auth.secretbox import SecretBox

    password_hash = hash_password(DEMO_PASSWORD)
    conn.execute(
        "UPDATE users SET password_hash = %s, password_changed_at = now()", (password_hash,)
    )
    conn.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, redirect_uris)"
        " VALUES (%s, 'Admin app', 'spa', %s)",
        (SPA_CLIENT_ID, SPA_REDIRECT_URIS),
    )
    conn.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, secret_hash)"
        " VALUES (%s, 'Till 1, centrale', 'till', %s)",
        (TILL_CLIENT_ID, hashlib.sha256(TILL_CLIENT_SECRET.encode()).hexdigest()),
    )
    conn.execute(
        "INSERT INTO till_device_venues (client_id, venue_id) VALUES (%s, %s)",
        (TILL_CLIENT_ID, CENTRALE),
    )
    admin = USER["platform_admin"].id
    sealed = SecretBox.from_setting(LOCAL_APP_KEYS).seal(
        DEMO_TOTP_SECRET.encode(), associated_data=admin.bytes
    )
    conn.execute(
        "INSERT INTO user_totp (user_id, secret_sealed, confirmed_at) VALUES (%s, %s, now())",
        (admin, sealed),
    )


# The group's library: recipe per item name (ingredients, method, allergens), suppliers.
RECIPES = {
    "Tiramisù": (
        [
            ("mascarpone", 500, "g"),
            ("eggs", 4, "pcs"),
            ("savoiardi", 300, "g"),
            ("espresso", 300, "ml"),
            ("cocoa", 20, "g"),
        ],
        "Whisk yolks and sugar, fold in mascarpone and whipped whites; layer with soaked"
        " savoiardi; rest 6 hours; dust with cocoa.",
        ["eggs", "milk", "cereals_containing_gluten"],
    ),
    "Tagliatelle al ragù": (
        [("tagliatelle", 120, "g"), ("ragù", 150, "g"), ("parmigiano", 15, "g")],
        "Cook the pasta 3 minutes, toss in the ragù, finish with parmigiano.",
        ["eggs", "cereals_containing_gluten", "milk", "celery"],
    ),
    "Negroni": (
        [("gin", 30, "ml"), ("vermouth rosso", 30, "ml"), ("bitter", 30, "ml")],
        "Stir over ice, strain onto a large cube, orange peel.",
        ["sulphites"],
    ),
}
SUPPLIERS = [
    ("Caseificio Valle", "ordini@caseificio-valle.example", ["mascarpone", "parmigiano"], GROUP_IO),
    ("Pastificio Nord", "+39 02 0000 0000", ["tagliatelle", "savoiardi"], GROUP_IO),
    ("Distillati Lume", "bar@distillati.example", ["gin", "bitter"], GROUP_LUME),
]


def recipe_id(item_name: str) -> uuid.UUID:
    return demo_id(f"recipe:{item_name}")


def supplier_id(name: str) -> uuid.UUID:
    return demo_id(f"supplier:{name}")


# Diners: (key, venue slug, email, name, allergens, dietary notes, visits there).
DINERS = [
    (
        "maria",
        "centrale",
        "maria.rossi@example.com",
        "Maria R.",
        ["peanuts", "tree_nuts"],
        "carries an adrenaline pen",
        3,
    ),
    (
        "maria",
        "nord",
        "Maria.Rossi@Example.com",
        "Maria R.",
        ["peanuts", "tree_nuts"],
        "carries an adrenaline pen",
        1,
    ),
    ("tomas", "centrale", "tomas@example.com", "Tomás", ["milk"], "", 2),
    ("tomas", "nord", "tomas@example.com", "Tomás", ["milk"], "", 1),
    ("ines", "nord", "+39 333 123 4567", "Inès", ["fish", "crustaceans"], "pescatarian", 2),
]
#: Maria consented, at centrale and at nord, to each seeing her visits at the other;
#: Tomás did not.
CONSENTING = {"maria"}


def diner_id(key: str, slug: str) -> uuid.UUID:
    return demo_id(f"diner:{key}:{slug}")


def demo_diner_keys() -> DinerKeys:
    from customers.config import DinerKeys

    return DinerKeys.from_values(app_keys=LOCAL_APP_KEYS, identity_salt=LOCAL_IDENTITY_SALT)


def _seed_library(conn: psycopg.Connection) -> None:
    """Through the same SQL the routes write with (as the superuser: no gate here)."""
    from library import queries

    for item_name, (ingredients, method, allergens) in RECIPES.items():
        group_id = next(g for name, _, g, _ in MENU if name == item_name)
        queries.write_recipe(
            conn,
            queries.INSERT_RECIPE,
            id=recipe_id(item_name),
            group=group_id,
            item=menu_item_id(item_name),
            ingredients=[{"name": n, "quantity": q, "unit": u} for n, q, u in ingredients],
            method=method,
            allergens=sorted(allergens),
            now=dt.datetime.now(dt.UTC),
        )
    for name, contact, supplies, group_id in SUPPLIERS:
        queries.write_supplier(
            conn,
            queries.INSERT_SUPPLIER,
            id=supplier_id(name),
            group=group_id,
            name=name,
            contact=contact,
            supplies=supplies,
            now=dt.datetime.now(dt.UTC),
        )


def _seed_diners(conn: psycopg.Connection) -> None:
    """Through the customers area's own code: identities, sealing, visits, consent (the
    audit events they write included)."""
    from customers import logic
    from customers.models import CustomerLookup, DietaryRecord, VisitInput

    keys = demo_diner_keys()
    start = dt.datetime(2026, 10, 1, 20, 0, tzinfo=dt.UTC)
    for key, slug, contact, name, allergens, notes, visits in DINERS:
        venue_id = VENUES[slug][0]
        lookup = (
            CustomerLookup(phone=contact, display_name=name)
            if contact.startswith("+")
            else CustomerLookup(email=contact, display_name=name)
        )
        diner = logic.find_or_create(
            conn,
            keys.identity,
            venue_id=venue_id,
            lookup=lookup,
            actor_user_id=None,
            new_id=diner_id(key, slug),
        ).id
        logic.set_dietary(
            conn,
            keys.box,
            venue_id=venue_id,
            diner_id=diner,
            dietary=DietaryRecord(allergens=allergens, dietary_notes=notes),  # type: ignore[arg-type]
            actor_user_id=None,
        )
        for number in range(visits):
            logic.record_visit(
                conn,
                venue_id=venue_id,
                diner_id=diner,
                visit=VisitInput(
                    party_size=2 + number % 3,
                    visited_at=start + dt.timedelta(days=7 * number + (slug == "nord")),
                ),
                actor_user_id=None,
            )
        if key in CONSENTING:
            logic.change_consent(
                conn, venue_id=venue_id, diner_id=diner, share=True, actor_user_id=None
            )


def _seed_tills(conn: psycopg.Connection) -> None:
    """A till for nord, and every demo person's PIN at each venue where they are staff,
    made by the routes' own code (tills.logic), as a manager would."""
    from tenancy.pins import PinPepper
    from tills.logic import register_till, set_pin

    register_till(
        conn,
        venue_id=NORD,
        name="Till 1, nord",
        actor_user_id=None,
        client_id=TILL_NORD_CLIENT_ID,
        client_secret=TILL_NORD_CLIENT_SECRET,
    )
    pepper = PinPepper.from_setting(LOCAL_PIN_PEPPER)
    for user in USERS:
        for slug in user.attachments:
            venue_id = VENUES[slug][0]
            staff = conn.execute(
                "SELECT id FROM staff_members WHERE venue_id = %s AND user_id = %s",
                (venue_id, user.id),
            ).fetchone()
            if staff is None:
                continue
            set_pin(
                conn,
                pepper,
                venue_id=venue_id,
                staff_id=staff[0],
                pin=DEMO_PINS[user.key],
                actor_user_id=None,
            )


#: The demo's pending invitation: nord's new waiter, who has no account yet (`make mail`
#: shows the message and its link).
INVITED_EMAIL = "nuovo@io-osteria.example"


class DroppedMail:
    """A mailer for mail nobody reads (the tests' seed, the benchmarks' invitations)."""

    def send(self, message: object) -> None:
        return None


def _seed_invitation(
    conn: psycopg.Connection, mailer: Mailer | None, issuer_url: str | None
) -> None:
    """One pending invitation, made as the attach route makes it (staff.logic.attach, its
    mail through the mail port), acting as the platform."""
    from infra.local.keys import LOCAL_ISSUER
    from staff.logic import PLATFORM, attach
    from tenancy.invitations import Invitations

    invitations = Invitations(mailer or DroppedMail(), issuer_url=issuer_url or LOCAL_ISSUER)
    attach(
        conn,
        venue_id=NORD,
        email=INVITED_EMAIL,
        role=Role.WAITER,
        permissions=None,
        actor=PLATFORM,
        invitations=lambda: invitations,
    )


#: Orders each io osteria venue takes through the order routes' logic (``_seed_orders``).
SERVICE_ORDERS_PER_VENUE = 30
#: The path of each: the actions it has been through (the last of every six is cancelled).
SERVICE_PATHS: list[list[str]] = [
    [],
    ["start"],
    ["start", "mark_ready"],
    ["start", "mark_ready", "serve"],
    ["start", "mark_ready", "serve", "close"],
    ["cancel"],
]


def _seed_orders(conn: psycopg.Connection) -> None:
    """The shift's orders at centrale and nord, taken and moved through the same logic as
    the routes: placed, preparing, ready, served, closed (each with its invoice) and
    cancelled, by the venue's waiter (centrale) or manager (nord)."""
    from orders.logic import create_order, move_order
    from orders.models import NewOrder

    for slug, taker in (("centrale", "waiter"), ("nord", "manager")):
        venue_id = VENUES[slug][0]
        staff = demo_staff_id(conn, taker, venue_id)
        menu = [
            menu_item_id(name)
            for name, _, group, prices in MENU
            if group == GROUP_IO and slug in prices
        ]
        for i in range(SERVICE_ORDERS_PER_VENUE):
            order = create_order(
                conn,
                venue_id=venue_id,
                order=NewOrder.model_validate(
                    {
                        "lines": [
                            {"item_id": menu[i % len(menu)], "quantity": 1 + i % 3},
                            {"item_id": menu[(i + 1) % len(menu)], "quantity": 1},
                        ],
                        "table_label": f"{slug[:1].upper()}{i % 20 + 1}",
                        "idempotency_key": f"seed:{slug}:{i:04d}",
                    }
                ),
                staff_member_id=staff,
                user_id=None,
            )
            for action in SERVICE_PATHS[i % len(SERVICE_PATHS)]:
                move_order(
                    conn,
                    venue_id=venue_id,
                    order_id=order.id,
                    action=action,  # type: ignore[arg-type]
                    reason="guest left before ordering" if action == "cancel" else None,
                    held=lambda: ROLE_DEFAULTS[Role.MANAGER],
                    actor_user_id=lambda taker=taker: USER[taker].id,  # type: ignore[misc]
                    staff_member_id=staff,
                )


def demo_staff_id(conn: psycopg.Connection, user_key: str, venue_id: uuid.UUID) -> uuid.UUID:
    """The staff member a demo person is at ``venue_id``."""
    row = conn.execute(
        "SELECT id FROM staff_members WHERE venue_id = %s AND user_id = %s",
        (venue_id, USER[user_key].id),
    ).fetchone()
    assert row is not None, f"{user_key} is not staff at {venue_id}"
    staff_id: uuid.UUID = row[0]
    return staff_id


def start_demo_session(
    admin_url: str, user_id: uuid.UUID, client_id: str = SPA_CLIENT_ID
) -> tuple[uuid.UUID, list[str]]:
    """A sign-in session as the issuer would open it: with a second factor when the account
    has one confirmed (the issuer asks for it then). For tests and benchmarks that mint
    their own tokens."""
    session_id = uuid.uuid4()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        row = conn.execute(
            "INSERT INTO auth_sessions (id, user_id, client_id, amr, acr, auth_time, expires_at)"
            " SELECT %(id)s, %(user)s, %(client)s, amr,"
            "        CASE WHEN cardinality(amr) > 1 THEN 'urn:venue:loa:2'"
            "             ELSE 'urn:venue:loa:1' END, now(), now() + interval '30 days'"
            " FROM (SELECT CASE WHEN EXISTS (SELECT 1 FROM user_totp t WHERE t.user_id = %(user)s"
            "                                AND t.confirmed_at IS NOT NULL)"
            "                   THEN '{pwd,otp}'::text[] ELSE '{pwd}'::text[] END AS amr) m"
            " RETURNING amr",
            {"id": session_id, "user": user_id, "client": client_id},
        ).fetchone()
    assert row is not None
    return session_id, list(row[0])
