"""Diners: identities that are the same person's at every venue without storing the contact,
dietary records sealed to their row and venue, key rotation, and the group's history shown
only under the diner's consent."""

from __future__ import annotations

import base64
import json
import os
import uuid
from typing import Any

import psycopg
import pytest

import tenancy.log
from customers.logic import associated_data
from customers.models import DietaryRecord
from infra.local import postgres
from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, LOCAL_APP_KEYS, NORD, USER, diner_id
from infra.rotate_diner_keys import main as rotate_main
from infra.rotate_diner_keys import rotate
from tenancy.sealing import SealedBox, key_id_of
from tests.conftest import Bind

WAITER = USER["waiter"].id  # centrale: TAKE_ORDERS, no EDIT_MENU
HEAD_CHEF = USER["head_chef"].id  # centrale: EDIT_MENU, no TAKE_ORDERS
REGIONAL = USER["regional"].id  # centrale and nord: both
MANAGER = USER["manager"].id  # nord: both
#: What a test records as a diner's dietary notes, to look for where it must not be.
NOTE = "anaphylaxis-marker-7f3a"


class RecordingLogger:
    """Stands in for the Powertools logger: keeps every line the functions write."""

    def __init__(self) -> None:
        self.lines: list[dict[str, Any]] = []

    def _line(self, message: str, extra: dict[str, Any] | None = None, **_: Any) -> None:
        self.lines.append({"message": message, **(extra or {})})

    info = warning = exception = _line


@pytest.fixture
def log_lines(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    recorder = RecordingLogger()
    monkeypatch.setattr(tenancy.log, "_logger", lambda: recorder)
    return recorder.lines


def new_email() -> str:
    return f"diner-{uuid.uuid4().hex[:10]}@example.com"


def find_or_create(
    api: ApiClient, venue: uuid.UUID, as_user: uuid.UUID, **contact: str
) -> Response:
    return api.request("POST", f"/venues/{venue}/customers", as_user=as_user, json_body=contact)


def new_diner(api: ApiClient, venue: uuid.UUID, as_user: uuid.UUID, email: str) -> uuid.UUID:
    response = find_or_create(api, venue, as_user, email=email, display_name="Test diner")
    assert response.status == 200, response.text
    assert response.json()["created"] is True
    return uuid.UUID(response.json()["id"])


def set_dietary(
    api: ApiClient, venue: uuid.UUID, diner: uuid.UUID, as_user: uuid.UUID, **record: Any
) -> Response:
    return api.request(
        "PUT", f"/venues/{venue}/customers/{diner}/dietary", as_user=as_user, json_body=record
    )


def sealed_of(admin_db: psycopg.Connection, diner: uuid.UUID) -> str:
    row = admin_db.execute("SELECT sensitive_sealed FROM diners WHERE id = %s", (diner,)).fetchone()
    assert row is not None
    value: str = row[0]
    return value


def history(api: ApiClient, venue: uuid.UUID, diner: uuid.UUID, as_user: uuid.UUID) -> Response:
    return api.get(f"/venues/{venue}/customers/{diner}/history", as_user=as_user)


def consent(
    api: ApiClient, venue: uuid.UUID, diner: uuid.UUID, as_user: uuid.UUID, share: bool
) -> Response:
    return api.request(
        "PUT",
        f"/venues/{venue}/customers/{diner}/consent",
        as_user=as_user,
        json_body={"share_group_history": share},
    )


# --- identity -----------------------------------------------------------------------------


def identity_of(admin_db: psycopg.Connection, diner: uuid.UUID) -> bytes:
    row = admin_db.execute("SELECT identity FROM diners WHERE id = %s", (diner,)).fetchone()
    assert row is not None
    value: bytes = row[0]
    return value


def test_the_same_email_at_two_venues_gives_the_same_identity(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given one person's email written two ways, when centrale and nord each find or create
    the diner, then each venue has its own diner with the same identity, the email itself
    is stored nowhere, and asking again finds the same diner."""
    local = uuid.uuid4().hex[:8]
    at_centrale = new_diner(api, CENTRALE, WAITER, f"  Ada.{local}@Example.COM ")
    at_nord = new_diner(api, NORD, MANAGER, f"ada.{local}@example.com")
    again = find_or_create(api, CENTRALE, REGIONAL, email=f"ada.{local}@example.com")
    stored = admin_db.execute(
        "SELECT to_jsonb(d)::text FROM diners d WHERE id = ANY(%s)", ([at_centrale, at_nord],)
    ).fetchall()

    assert at_centrale != at_nord
    assert identity_of(admin_db, at_centrale) == identity_of(admin_db, at_nord)
    assert len(identity_of(admin_db, at_centrale)) == 32
    assert (again.json()["id"], again.json()["created"]) == (str(at_centrale), False)
    assert local not in json.dumps([row[0] for row in stored]).lower()


def test_the_same_phone_written_two_ways_gives_the_same_identity(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a phone number with spaces and with the 00 prefix and dashes, when centrale and
    nord find or create the diner, then both have the same identity."""
    digits = str(uuid.uuid4().int)[:7]
    at_centrale = find_or_create(api, CENTRALE, WAITER, phone=f"+39 333 {digits}")
    at_nord = find_or_create(api, NORD, MANAGER, phone=f"0039-333-{digits}")

    assert identity_of(admin_db, uuid.UUID(at_centrale.json()["id"])) == identity_of(
        admin_db, uuid.UUID(at_nord.json()["id"])
    )


@pytest.mark.parametrize(
    "body",
    [
        {"email": "not-an-email"},
        {"phone": "333 1234567"},
        {"email": "a@b.example", "phone": "+393331234567"},
        {},
    ],
)
def test_a_contact_that_is_not_one_email_or_one_phone_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, body: dict[str, str]
) -> None:
    """Given a malformed email, a phone without its country, both or neither, when a venue
    looks a diner up, then it is a 422 naming no value, and nothing is written."""
    count = admin_db.execute("SELECT count(*) FROM diners").fetchone()

    response = api.request("POST", f"/venues/{CENTRALE}/customers", as_user=WAITER, json_body=body)

    assert response.status == 422
    assert response.json()["code"] == "invalid-body"
    assert "not-an-email" not in response.text
    assert "1234567" not in response.text
    assert admin_db.execute("SELECT count(*) FROM diners").fetchone() == count


# --- sealed dietary records -----------------------------------------------------------------


def test_stored_bytes_hold_no_allergen_and_only_the_kitchen_reads_them(
    api: ApiClient, admin_db: psycopg.Connection, log_lines: list[dict[str, Any]]
) -> None:
    """Given a diner at centrale, when the waiter records their allergens and notes, then
    the row, its audit event and every log line hold neither; the head chef (EDIT_MENU)
    reads them, the waiter (no EDIT_MENU) is told they are withheld."""
    diner = new_diner(api, CENTRALE, WAITER, new_email())

    written = set_dietary(
        api, CENTRALE, diner, WAITER, allergens=["sesame", "lupin"], dietary_notes=NOTE
    )
    for_chef = api.get(f"/venues/{CENTRALE}/customers/{diner}", as_user=HEAD_CHEF)
    for_waiter = api.get(f"/venues/{CENTRALE}/customers/{diner}", as_user=WAITER)
    stored = admin_db.execute(
        "SELECT to_jsonb(d)::text FROM diners d WHERE id = %s", (diner,)
    ).fetchone()
    events = admin_db.execute(
        "SELECT action, details::text FROM audit_outbox WHERE target_id = %s ORDER BY occurred_at",
        (str(diner),),
    ).fetchall()

    assert written.status == 204, written.text
    assert stored is not None
    for secret in ("sesame", "lupin", NOTE):
        assert secret not in stored[0]
        assert secret not in json.dumps(events)
        assert secret not in json.dumps(log_lines, default=str)
        assert secret not in for_waiter.text
    assert [action for action, _ in events] == ["customer.created", "customer.dietary_changed"]
    assert json.loads(events[1][1]) == {
        "before": {"dietary_recorded": False, "key_id": None},
        "after": {"dietary_recorded": True, "key_id": "local1"},
    }
    assert for_chef.json()["allergens"] == ["lupin", "sesame"]
    assert for_chef.json()["dietary_notes"] == NOTE
    assert for_waiter.status == 200
    assert for_waiter.json()["allergens"] is None
    assert for_waiter.json()["dietary_withheld"] is True


def test_a_bad_dietary_record_is_refused_without_echoing_it(
    api: ApiClient, admin_db: psycopg.Connection, log_lines: list[dict[str, Any]]
) -> None:
    """Given a diner, when a record names an unknown allergen, then the answer is a 422 that
    echoes neither it nor the notes, no log line carries them, and nothing is written."""
    diner = new_diner(api, CENTRALE, WAITER, new_email())

    response = set_dietary(
        api, CENTRALE, diner, WAITER, allergens=["pineapple-marker"], dietary_notes=NOTE
    )

    assert response.status == 422
    assert response.json()["code"] == "invalid-body"
    assert "pineapple-marker" not in response.text
    assert NOTE not in response.text
    assert "pineapple-marker" not in json.dumps(log_lines, default=str)
    assert sealed_of(admin_db, diner) is None


@pytest.mark.parametrize("where", ["another row", "another venue"])
def test_a_ciphertext_moved_elsewhere_fails_to_open_with_a_clear_refusal(
    api: ApiClient, admin_db: psycopg.Connection, log_lines: list[dict[str, Any]], where: str
) -> None:
    """Given a diner's sealed record at centrale, when it is copied onto another diner of
    centrale, or onto the same person's diner at nord, then reading the target is a 409
    sealed-data-unreadable problem (no 500) that shows nothing of the record."""
    email = new_email()
    source = new_diner(api, CENTRALE, WAITER, email)
    set_dietary(api, CENTRALE, source, WAITER, allergens=["mustard"], dietary_notes=NOTE)
    if where == "another row":
        venue, reader = CENTRALE, HEAD_CHEF
        target = new_diner(api, CENTRALE, WAITER, new_email())
    else:
        venue, reader = NORD, MANAGER
        target = new_diner(api, NORD, MANAGER, email)
    admin_db.execute(
        "UPDATE diners SET sensitive_sealed = %s WHERE id = %s",
        (sealed_of(admin_db, source), target),
    )

    try:
        response = api.get(f"/venues/{venue}/customers/{target}", as_user=reader)
    finally:
        admin_db.execute("UPDATE diners SET sensitive_sealed = NULL WHERE id = %s", (target,))

    assert response.status == 409, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "sealed-data-unreadable"
    assert "mustard" not in response.text
    assert NOTE not in response.text
    assert "mustard" not in json.dumps(log_lines, default=str)


def test_rotation_reseals_every_record_under_the_active_key_and_keeps_it_readable(
    admin_db: psycopg.Connection,
) -> None:
    """Given every diner's sealed record under the local key, when the rotation runs with a
    new key listed first, then every record is under the new key and opens to what it was;
    a second run re-seals nothing."""
    old = SealedBox.from_setting(LOCAL_APP_KEYS)
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = SealedBox.from_setting(f"k2:{new_key},{LOCAL_APP_KEYS}")
    query = (
        "SELECT id, venue_id, sensitive_sealed FROM diners WHERE sensitive_sealed IS NOT NULL"
        " ORDER BY id"
    )

    def opened(box: SealedBox, rows: list[tuple[Any, ...]]) -> dict[uuid.UUID, DietaryRecord]:
        return {
            d: DietaryRecord.model_validate_json(
                box.open(sealed, associated_data=associated_data(d, venue))
            )
            for d, venue, sealed in rows
        }

    with admin_db.transaction(force_rollback=True):
        before_rows = admin_db.execute(query).fetchall()
        before = opened(old, before_rows)
        first = rotate(admin_db, rotated, batch_size=2)
        after_rows = admin_db.execute(query).fetchall()
        second = rotate(admin_db, rotated, batch_size=2)

    assert len(before) >= 5
    assert first.resealed == len(before_rows)
    assert first.unreadable == []
    assert {key_id_of(sealed) for _, _, sealed in after_rows} == {"k2"}
    assert opened(rotated, after_rows) == before
    assert second.resealed == 0


# --- history under consent ------------------------------------------------------------------


def venues_in(response: Response) -> list[str]:
    assert response.status == 200, response.text
    return [visit["venue_name"] for visit in response.json()["visits"]]


def record_visit(api: ApiClient, venue: uuid.UUID, diner: uuid.UUID, as_user: uuid.UUID) -> None:
    response = api.request(
        "POST",
        f"/venues/{venue}/customers/{diner}/visits",
        as_user=as_user,
        json_body={"party_size": 2},
    )
    assert response.status == 201, response.text


def test_nord_sees_centrales_history_only_while_the_diners_consent_covers_it(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given one person who visited centrale and nord, when nord reads their history without
    consent, with the consent recorded at nord, and after its withdrawal, then it sees
    centrale's visit only while the consent is active, and the consent's changes are
    audited with before and after."""
    email = new_email()
    at_centrale = new_diner(api, CENTRALE, WAITER, email)
    at_nord = new_diner(api, NORD, MANAGER, email)
    record_visit(api, CENTRALE, at_centrale, WAITER)
    record_visit(api, NORD, at_nord, MANAGER)

    without = history(api, NORD, at_nord, MANAGER)
    granted = consent(api, NORD, at_nord, MANAGER, share=True)
    with_consent = history(api, NORD, at_nord, MANAGER)
    centrale_meanwhile = history(api, CENTRALE, at_centrale, WAITER)
    withdrawn = consent(api, NORD, at_nord, MANAGER, share=False)
    after = history(api, NORD, at_nord, MANAGER)
    events = admin_db.execute(
        "SELECT action, details FROM audit_outbox WHERE target_id = %s"
        " AND action LIKE 'customer.consent_%%' ORDER BY occurred_at",
        (str(at_nord),),
    ).fetchall()

    assert venues_in(without) == ["io osteria nord"]
    assert granted.json()["consent_active"] is True
    assert sorted(venues_in(with_consent)) == ["io osteria centrale", "io osteria nord"]
    assert [v["here"] for v in with_consent.json()["visits"] if v["venue_id"] == str(CENTRALE)] == [
        False
    ]
    assert venues_in(centrale_meanwhile) == ["io osteria centrale"]
    assert withdrawn.json()["consent_active"] is False
    assert venues_in(after) == ["io osteria nord"]
    assert [action for action, _ in events] == [
        "customer.consent_granted",
        "customer.consent_withdrawn",
    ]
    assert events[0][1]["before"]["consent_active"] is False
    assert events[0][1]["after"]["consent_active"] is True
    assert events[1][1]["after"] == {"consent_active": False, "granted_at": None}


def test_the_seeded_consent_shows_centrale_at_nord_and_its_absence_does_not(
    api: ApiClient,
) -> None:
    """Given the demo diners (Maria consented at nord, Tomás did not), when nord reads their
    histories, then Maria's shows centrale's visits and Tomás's shows nord's only."""
    maria = history(api, NORD, diner_id("maria", "nord"), MANAGER)
    tomas = history(api, NORD, diner_id("tomas", "nord"), MANAGER)

    assert "io osteria centrale" in venues_in(maria)
    assert set(venues_in(tomas)) == {"io osteria nord"}


def test_row_level_security_holds_other_venues_visits_to_the_consent(
    runtime_db: psycopg.Connection, bind: Bind
) -> None:
    """Given the venue role with nord genuinely bound for its manager, when a query reads
    centrale's visits directly, then it sees those of the consenting diner only."""
    maria = diner_id("maria", "centrale")
    tomas = diner_id("tomas", "centrale")
    with runtime_db.transaction():
        bind(runtime_db, user_id=MANAGER, venue_id=NORD)
        seen = runtime_db.execute(
            "SELECT diner_id, count(*) FROM diner_visits WHERE venue_id = %s GROUP BY 1",
            (CENTRALE,),
        ).fetchall()
        diners = runtime_db.execute(
            "SELECT count(*) FROM diners WHERE venue_id = %s", (CENTRALE,)
        ).fetchone()

    assert dict(seen).keys() == {maria}
    assert tomas not in dict(seen)
    assert diners == (0,)


def test_a_diner_of_another_venue_is_not_found(api: ApiClient) -> None:
    """Given a diner of centrale, when nord's manager asks for them by id on every diner
    route, then each answers 404 and says nothing about them."""
    maria = diner_id("maria", "centrale")
    responses = [
        api.get(f"/venues/{NORD}/customers/{maria}", as_user=MANAGER),
        history(api, NORD, maria, MANAGER),
        consent(api, NORD, maria, MANAGER, share=True),
        set_dietary(api, NORD, maria, MANAGER, allergens=[], dietary_notes=""),
        api.request(
            "POST",
            f"/venues/{NORD}/customers/{maria}/visits",
            as_user=MANAGER,
            json_body={"party_size": 2},
        ),
    ]

    assert [r.status for r in responses] == [404] * 5
    assert all("Maria" not in r.text for r in responses)


def test_the_platform_admin_override_does_not_open_dietary_records(api: ApiClient) -> None:
    """Given a platform admin (every flag at any venue, audited), when they read a diner of
    centrale, then the diner is served with the dietary record withheld: operations have no
    need to know it."""
    response = api.get(
        f"/venues/{CENTRALE}/customers/{diner_id('maria', 'centrale')}",
        as_user=USER["platform_admin"].id,
    )

    assert response.status == 200, response.text
    assert response.json()["dietary_withheld"] is True
    assert "peanuts" not in response.text


def test_the_rotation_command_runs_against_a_database(
    database: postgres.Database,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given the app keys as deployed (the local key active), when `python -m
    infra.rotate_diner_keys` runs with the administrative connection, then it reports the
    records it re-sealed (none: all are under the active key already) and succeeds."""
    monkeypatch.setenv("APP_KEYS", LOCAL_APP_KEYS)

    status = rotate_main([database.admin_url])

    assert status == 0
    assert "re-sealed 0 dietary record(s) under key 'local1'" in capsys.readouterr().out
