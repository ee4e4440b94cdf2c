"""Tills and PINs as a venue meets them: registering a till, setting PINs, opening a till
session with a PIN, wrong PINs locking the till, locking the till, and what a till session
may do. Every till here is registered for its test, so its locks touch nothing else."""

from __future__ import annotations

import hashlib
import uuid
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import psycopg
import pytest

from auth.config import Issuer
from infra.local.client import ApiClient, Response
from infra.local.seed import CENTRALE, DEMO_PINS, NORD, USER, demo_staff_id
from tenancy.pins import PinPepper
from tests.support.second_factor import new_venue, require_mfa_for_admins
from tests.support.tills import Till, device_token, enter_pin, register_till, till_session

#: PINs no one at centrale has (its demo PINs are 1111, 2222 and 3333).
NOBODYS_PINS = [f"9{i:03d}" for i in range(1000)]


def failures(admin_db: psycopg.Connection, till: Till) -> int:
    row = admin_db.execute(
        "SELECT count(*) FROM sign_in_failures WHERE scope = 'till' AND key = %s",
        (till.client_id,),
    ).fetchone()
    assert row is not None
    return int(row[0])


def events(admin_db: psycopg.Connection, action: str, target: str) -> list[dict[str, Any]]:
    rows = admin_db.execute(
        "SELECT to_jsonb(e) FROM audit_outbox e WHERE action = %s AND target_id = %s",
        (action, target),
    ).fetchall()
    return [row[0] for row in rows]


def assert_problem(response: Response, status: int, code: str) -> None:
    assert response.status == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == code


@pytest.fixture
def centrale_till(api: ApiClient) -> Till:
    return register_till(api, CENTRALE)


# --- registering a till -------------------------------------------------------------------------


def test_a_registered_till_gets_its_secret_once_and_serves_its_venue_only(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given centrale's regional manager, when they register a till, then the answer holds
    its client secret, which is stored only as its SHA-256, appears in no audit event, and
    gets the till a device token; the till serves centrale and not nord."""
    till = register_till(api, CENTRALE)

    stored = admin_db.execute(
        "SELECT kind, secret_hash FROM oauth_clients WHERE client_id = %s", (till.client_id,)
    ).fetchone()
    served = admin_db.execute(
        "SELECT venue_id FROM till_device_venues WHERE client_id = %s", (till.client_id,)
    ).fetchall()
    registered = events(admin_db, "till.registered", till.client_id)
    assert stored == ("till", hashlib.sha256(till.client_secret.encode()).hexdigest())
    assert served == [(CENTRALE,)]
    assert len(registered) == 1
    assert registered[0]["venue_id"] == str(CENTRALE)
    assert till.client_secret not in str(registered)
    device = device_token(api, till)
    assert enter_pin(api, device, NORD, DEMO_PINS["manager"]).json()["code"] == (
        "venue-access-denied"
    )


def test_registering_a_till_needs_manage_staff(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given centrale's head chef (no MANAGE_STAFF), when they register a till, then they are
    told which permission they lack and no till is added."""
    before = admin_db.execute("SELECT count(*) FROM oauth_clients").fetchone()

    response = api.request(
        "POST",
        f"/venues/{CENTRALE}/tills",
        as_user=USER["head_chef"].id,
        json_body={"name": "Kitchen till"},
    )

    assert_problem(response, 403, "permission-denied")
    assert response.json()["missing_permissions"] == ["MANAGE_STAFF"]
    assert admin_db.execute("SELECT count(*) FROM oauth_clients").fetchone() == before


def test_a_disabled_till_is_refused_with_its_device_token(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a till with a valid device token, when the till is disabled, then its next PIN
    entry is refused for its token."""
    device = device_token(api, centrale_till)
    admin_db.execute(
        "UPDATE oauth_clients SET disabled_at = now() WHERE client_id = %s",
        (centrale_till.client_id,),
    )

    response = enter_pin(api, device, CENTRALE, DEMO_PINS["waiter"])

    assert_problem(response, 401, "unauthenticated")


# --- staff PINs ---------------------------------------------------------------------------------


def new_staff(
    admin_db: psycopg.Connection, venue_id: uuid.UUID = CENTRALE, role: str = "waiter"
) -> uuid.UUID:
    """A member of the venue's staff without an account or a PIN, made for one test."""
    row = admin_db.execute(
        "INSERT INTO staff_members (venue_id, display_name, role)"
        " VALUES (%s, 'New member of staff', %s) RETURNING id",
        (venue_id, role),
    ).fetchone()
    assert row is not None
    staff_id: uuid.UUID = row[0]
    return staff_id


@pytest.fixture
def new_staff_member(admin_db: psycopg.Connection) -> uuid.UUID:
    return new_staff(admin_db)


def set_pin(
    api: ApiClient,
    staff_id: uuid.UUID,
    pin: Any,
    venue: uuid.UUID = CENTRALE,
    who: str = "regional",
) -> Response:
    return api.request(
        "PUT",
        f"/venues/{venue}/staff/{staff_id}/pin",
        as_user=USER[who].id,
        json_body={"pin": pin},
    )


def unused_pin() -> str:
    """A PIN of 8 digits no test has used (random: one in 10^8 could repeat)."""
    return f"{uuid.uuid4().int % 10**8:08d}"


def test_a_pin_is_stored_as_a_digest_and_never_shown_or_audited(
    api: ApiClient, admin_db: psycopg.Connection, new_staff_member: uuid.UUID
) -> None:
    """Given a new member of centrale's staff, when the regional manager sets their PIN,
    then the answer does not carry it, the database holds a 32-byte digest, not the PIN, and
    the audit event names the staff member but not the PIN."""
    pin = unused_pin()

    response = set_pin(api, new_staff_member, pin)

    assert response.status == 200, response.text
    assert pin not in response.text
    assert response.json()["replaced"] is False
    stored = admin_db.execute(
        "SELECT pin_hmac FROM staff_pins WHERE staff_member_id = %s", (new_staff_member,)
    ).fetchone()
    assert stored is not None
    assert len(stored[0]) == 32
    assert pin.encode() not in bytes(stored[0])
    audited = events(admin_db, "staff.pin_set", str(new_staff_member))
    assert len(audited) == 1
    assert pin not in str(audited)
    assert "pin" not in audited[0]["details"]


def test_the_new_pin_opens_a_till_session_and_the_old_one_no_longer_does(
    api: ApiClient, admin_db: psycopg.Connection, new_staff_member: uuid.UUID, centrale_till: Till
) -> None:
    """Given a member of staff with a PIN and an open till session, when their PIN is reset,
    then the open session has ended, the old PIN is refused and the new one opens one."""
    old, new = unused_pin(), unused_pin()
    assert set_pin(api, new_staff_member, old).status == 200
    device = device_token(api, centrale_till)
    session = enter_pin(api, device, CENTRALE, old).json()["access_token"]

    reset = set_pin(api, new_staff_member, new)

    assert reset.json()["replaced"] is True
    assert_problem(api.get(f"/venues/{CENTRALE}/orders", token=session), 401, "session-ended")
    assert_problem(enter_pin(api, device, CENTRALE, old), 403, "pin-refused")
    opened = enter_pin(api, device, CENTRALE, new)
    assert opened.status == 201, opened.text
    assert opened.json()["staff_member"]["id"] == str(new_staff_member)


def test_a_pin_someone_else_at_the_venue_has_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, new_staff_member: uuid.UUID
) -> None:
    """Given the waiter's PIN at centrale, when another member of centrale's staff is given
    the same PIN, then it is refused (409 pin-taken) and nothing is written; the same PIN is
    fine at nord, where no one has it."""
    before = admin_db.execute("SELECT count(*) FROM staff_pins").fetchone()

    taken = set_pin(api, new_staff_member, DEMO_PINS["waiter"])

    assert_problem(taken, 409, "pin-taken")
    assert DEMO_PINS["waiter"] not in taken.text
    assert admin_db.execute("SELECT count(*) FROM staff_pins").fetchone() == before
    nord_staff = new_staff(admin_db, NORD)
    assert set_pin(api, nord_staff, DEMO_PINS["waiter"], NORD, "manager").status == 200


def test_parallel_pins_for_two_people_never_end_up_the_same(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given eight new members of centrale's staff, when all are given the same new PIN at
    once, then exactly one gets it, the others are told it is taken, and no request fails."""
    staff = [new_staff(admin_db, role="casual") for _ in range(8)]
    pin = unused_pin()

    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = sorted(pool.map(lambda staff_id: set_pin(api, staff_id, pin).status, staff))

    assert statuses == [200] + [409] * 7


@pytest.mark.parametrize(
    "pin",
    ["123", "123456789", "12a4", " 1234", "١٢٣٤", "1234\u0000", 1234, None, ""],
    ids=["short", "long", "letter", "space", "arabic-indic digits", "nul", "a number", "null", ""],
)
def test_a_pin_that_is_not_four_to_eight_digits_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, new_staff_member: uuid.UUID, pin: Any
) -> None:
    """Given a member of centrale's staff, when their PIN is set to something that is not 4
    to 8 ASCII digits, then it is a 422 problem that does not echo it, and nothing is
    written."""
    response = set_pin(api, new_staff_member, pin)

    assert_problem(response, 422, "invalid-body")
    assert "1234" not in response.text
    assert admin_db.execute(
        "SELECT count(*) FROM staff_pins WHERE staff_member_id = %s", (new_staff_member,)
    ).fetchone() == (0,)


def test_another_venues_staff_member_is_not_found(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given the regional manager (staff rights at both venues), when they set, through
    centrale, the PIN of a member of nord's staff, then it is not found there and nord's PIN
    stays."""
    nord_staff = demo_staff_id(admin_db, "manager", NORD)
    before = admin_db.execute(
        "SELECT pin_hmac FROM staff_pins WHERE staff_member_id = %s", (nord_staff,)
    ).fetchone()

    response = set_pin(api, nord_staff, unused_pin())

    assert_problem(response, 404, "not-found")
    assert (
        admin_db.execute(
            "SELECT pin_hmac FROM staff_pins WHERE staff_member_id = %s", (nord_staff,)
        ).fetchone()
        == before
    )


def test_setting_a_pin_needs_manage_staff(api: ApiClient, new_staff_member: uuid.UUID) -> None:
    """Given centrale's waiter (no MANAGE_STAFF), when they set a colleague's PIN, then they
    are told which permission they lack."""
    response = set_pin(api, new_staff_member, "4321", who="waiter")

    assert_problem(response, 403, "permission-denied")


# --- opening a till session ---------------------------------------------------------------------


def test_a_pin_opens_a_till_session_for_its_staff_member(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till, issuer: Issuer
) -> None:
    """Given a till of centrale, when the waiter enters their PIN, then a till session opens
    for the waiter (12 hours, 30 minutes idle by default), audited without the PIN, and its
    token shows centrale's orders queue."""
    opened = till_session(api, centrale_till, "waiter")

    assert opened["staff_member"]["id"] == str(demo_staff_id(admin_db, "waiter", CENTRALE))
    assert opened["venue_id"] == str(CENTRALE)
    assert opened["idle_timeout_seconds"] == issuer.settings.till_session_idle_seconds
    assert opened["expires_in"] == issuer.settings.till_session_absolute_seconds
    audited = events(admin_db, "till.session_opened", opened["session_id"])
    assert len(audited) == 1
    assert DEMO_PINS["waiter"] not in str(audited)
    queue = api.get(f"/venues/{CENTRALE}/orders", token=opened["access_token"])
    assert queue.status == 200, queue.text
    assert queue.json()["orders"]


def test_a_nord_pin_entered_on_a_centrale_till_is_refused(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a till of centrale, when nord's manager enters their nord PIN, then it is
    refused exactly as a PIN nobody has (the answer does not say it is a PIN somewhere), and
    it counts as a wrong PIN."""
    device = device_token(api, centrale_till)

    nord_pin = enter_pin(api, device, CENTRALE, DEMO_PINS["manager"])
    nobodys = enter_pin(api, device, CENTRALE, NOBODYS_PINS[0])

    assert_problem(nord_pin, 403, "pin-refused")
    assert (nord_pin.status, nord_pin.body) == (nobodys.status, nobodys.body)
    assert failures(admin_db, centrale_till) == 2


def test_a_staff_member_whose_account_was_disabled_cannot_open_a_session(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a member of staff linked to an account attached to centrale, with a PIN, when
    the account is disabled, then their PIN is refused like any wrong PIN."""
    user_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, 'Leaving')",
        (user_id, f"{user_id.hex}@io-osteria.example"),
    )
    admin_db.execute(
        "INSERT INTO venue_attachments (venue_id, user_id, role, permissions)"
        " VALUES (%s, %s, 'casual', 1)",
        (CENTRALE, user_id),
    )
    staff = admin_db.execute(
        "INSERT INTO staff_members (venue_id, user_id, display_name, role)"
        " VALUES (%s, %s, 'Leaving', 'casual') RETURNING id",
        (CENTRALE, user_id),
    ).fetchone()
    assert staff is not None
    pin = unused_pin()
    assert set_pin(api, staff[0], pin).status == 200
    device = device_token(api, centrale_till)
    assert enter_pin(api, device, CENTRALE, pin).status == 201

    admin_db.execute("UPDATE users SET disabled_at = now() WHERE id = %s", (user_id,))

    assert_problem(enter_pin(api, device, CENTRALE, pin), 403, "pin-refused")


def test_a_deactivated_member_of_staffs_pin_is_refused_like_a_wrong_pin(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a member of centrale's staff with a PIN that opened a till session, when their
    manager deactivates them, then their open session is refused at its next request, and
    their PIN is refused exactly like a PIN nobody has (same status, same body): no session
    is opened, and the attempt counts toward the till's lock like any wrong PIN."""
    member = new_staff(admin_db)
    pin = unused_pin()
    assert set_pin(api, member, pin).status == 200
    device = device_token(api, centrale_till)
    opened = enter_pin(api, device, CENTRALE, pin)
    assert opened.status == 201, opened.text
    session = opened.json()["access_token"]

    off = api.patch(
        f"/venues/{CENTRALE}/staff/{member}",
        as_user=USER["regional"].id,
        json_body={"active": False},
    )
    ended = api.get(f"/venues/{CENTRALE}/orders", token=session)
    deactivated = enter_pin(api, device, CENTRALE, pin)
    nobodys = enter_pin(api, device, CENTRALE, NOBODYS_PINS[0])

    assert off.status == 200, off.text
    assert_problem(ended, 401, "session-ended")
    assert_problem(deactivated, 403, "pin-refused")
    assert (deactivated.status, deactivated.body) == (nobodys.status, nobodys.body)
    assert failures(admin_db, centrale_till) == 2
    opened_sessions = admin_db.execute(
        "SELECT count(*) FROM till_sessions WHERE staff_member_id = %s", (member,)
    ).fetchone()
    assert opened_sessions == (1,)


LIMIT = 5


def test_wrong_pins_lock_the_till_exactly_at_the_limit_whoever_they_were_meant_for(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till, issuer: Issuer
) -> None:
    """Given a till of centrale, when LIMIT - 1 different wrong PINs are entered, then a
    right PIN still opens a session (and forgives nothing); the next wrong PIN is the
    LIMIT-th: it is refused as wrong, locks the till and writes one critical till.locked
    event; from then on even a right PIN is refused (429, Retry-After) and is not counted."""
    assert issuer.settings.till_pin_max_failures == LIMIT
    device = device_token(api, centrale_till)
    for pin in NOBODYS_PINS[: LIMIT - 1]:
        assert_problem(enter_pin(api, device, CENTRALE, pin), 403, "pin-refused")
    assert enter_pin(api, device, CENTRALE, DEMO_PINS["waiter"]).status == 201
    assert events(admin_db, "till.locked", centrale_till.client_id) == []

    last = enter_pin(api, device, CENTRALE, NOBODYS_PINS[LIMIT])
    locked = enter_pin(api, device, CENTRALE, DEMO_PINS["head_chef"])

    assert_problem(last, 403, "pin-refused")
    assert_problem(locked, 429, "too-many-attempts")
    assert int(locked.headers["retry-after"]) > 0
    assert failures(admin_db, centrale_till) == LIMIT
    lockouts = events(admin_db, "till.locked", centrale_till.client_id)
    assert len(lockouts) == 1
    assert lockouts[0]["critical"] is True
    assert lockouts[0]["details"]["venue_id"] == str(CENTRALE)


def test_parallel_wrong_pins_lock_the_till_exactly_at_the_limit(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a till of centrale, when 40 different wrong PINs are entered at once, then
    exactly LIMIT are counted (and refused as wrong), the rest meet the lock, exactly one
    till.locked event is written, and a right PIN is refused afterwards."""
    device = device_token(api, centrale_till)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(
            pool.map(lambda pin: enter_pin(api, device, CENTRALE, pin), NOBODYS_PINS[:40])
        )

    codes = sorted(response.json()["code"] for response in answers)
    assert codes == ["pin-refused"] * LIMIT + ["too-many-attempts"] * (40 - LIMIT)
    assert failures(admin_db, centrale_till) == LIMIT
    assert len(events(admin_db, "till.locked", centrale_till.client_id)) == 1
    assert_problem(enter_pin(api, device, CENTRALE, DEMO_PINS["waiter"]), 429, "too-many-attempts")


def test_a_locked_till_opens_again_once_the_window_has_passed(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a till locked by wrong PINs, when its counted failures leave the window (moved
    back in time here, not waited for), then a right PIN opens a session again."""
    device = device_token(api, centrale_till)
    for pin in NOBODYS_PINS[:LIMIT]:
        enter_pin(api, device, CENTRALE, pin)
    assert enter_pin(api, device, CENTRALE, DEMO_PINS["waiter"]).status == 429

    admin_db.execute(
        "UPDATE sign_in_failures SET failed_at = failed_at - interval '1 hour'"
        " WHERE scope = 'till' AND key = %s",
        (centrale_till.client_id,),
    )

    assert enter_pin(api, device, CENTRALE, DEMO_PINS["waiter"]).status == 201


def test_a_lock_on_one_till_leaves_the_others_open(api: ApiClient, centrale_till: Till) -> None:
    """Given a till locked by wrong PINs, then another till of the same venue still opens a
    session with the same right PIN."""
    device = device_token(api, centrale_till)
    for pin in NOBODYS_PINS[:LIMIT]:
        enter_pin(api, device, CENTRALE, pin)

    other = register_till(api, CENTRALE)

    assert enter_pin(api, device_token(api, other), CENTRALE, DEMO_PINS["waiter"]).status == 201


# --- a till session -----------------------------------------------------------------------------


def test_locking_the_till_ends_its_session(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given an open till session, when the till locks it, then the next request with its
    token is refused (session-ended), and the lock is audited for the staff member."""
    opened = till_session(api, centrale_till, "waiter")
    token = opened["access_token"]

    locked = api.request("DELETE", f"/venues/{CENTRALE}/till-sessions/current", token=token)

    assert locked.status == 204, locked.text
    assert_problem(api.get(f"/venues/{CENTRALE}/orders", token=token), 401, "session-ended")
    audited = events(admin_db, "till.session_locked", opened["session_id"])
    assert len(audited) == 1
    assert audited[0]["actor_user_id"] == str(USER["waiter"].id)


def test_only_a_till_session_can_lock_itself(api: ApiClient) -> None:
    """Given the regional manager, when their own token asks to lock the current till
    session, then it is refused: they are not a till."""
    response = api.request(
        "DELETE", f"/venues/{CENTRALE}/till-sessions/current", as_user=USER["regional"].id
    )

    assert_problem(response, 403, "till-session-required")


def test_a_new_session_on_a_till_ends_the_one_before(api: ApiClient, centrale_till: Till) -> None:
    """Given the waiter's till session, when the head chef enters their PIN on the same till,
    then the waiter's session has ended: a till serves one person at a time."""
    waiter = till_session(api, centrale_till, "waiter")["access_token"]

    head_chef = till_session(api, centrale_till, "head_chef")["access_token"]

    assert_problem(api.get(f"/venues/{CENTRALE}/orders", token=waiter), 401, "session-ended")
    assert api.get(f"/venues/{CENTRALE}/orders", token=head_chef).status == 200


@pytest.mark.parametrize(
    "ending",
    [
        "UPDATE till_sessions SET last_seen_at = now() - interval '31 minutes' WHERE id = %s",
        "UPDATE till_sessions SET expires_at = now() WHERE id = %s",
    ],
    ids=["idle for longer than the limit", "past its end"],
)
def test_an_idle_or_expired_till_session_has_ended(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till, ending: str
) -> None:
    """Given a till session (its clock moved here, not waited for), when it has been idle
    longer than its limit, or has reached its end, then its token is refused."""
    opened = till_session(api, centrale_till, "waiter")
    admin_db.execute(ending, (opened["session_id"],))

    response = api.get(f"/venues/{CENTRALE}/orders", token=opened["access_token"])

    assert_problem(response, 401, "session-ended")


def test_a_request_keeps_a_till_session_from_going_idle(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a till session last seen 29 minutes ago, when it calls the orders queue, then it
    is served and its inactivity starts again (last seen now)."""
    opened = till_session(api, centrale_till, "waiter")
    admin_db.execute(
        "UPDATE till_sessions SET last_seen_at = now() - interval '29 minutes' WHERE id = %s",
        (opened["session_id"],),
    )

    served = api.get(f"/venues/{CENTRALE}/orders", token=opened["access_token"])

    assert served.status == 200, served.text
    idle = admin_db.execute(
        "SELECT now() - last_seen_at < interval '1 minute' FROM till_sessions WHERE id = %s",
        (opened["session_id"],),
    ).fetchone()
    assert idle == (True,)


def test_a_till_session_acts_with_its_staff_members_flags(
    api: ApiClient, admin_db: psycopg.Connection, centrale_till: Till
) -> None:
    """Given a member of centrale's staff whose role is outside the role catalogue (so it
    holds no flag), with a PIN, when their till session asks for the orders queue, then it
    is told it lacks VIEW_ORDERS."""
    dishwasher = new_staff(admin_db, role="dishwasher")
    pin = unused_pin()
    assert set_pin(api, dishwasher, pin).status == 200
    opened = enter_pin(api, device_token(api, centrale_till), CENTRALE, pin)
    assert opened.status == 201, opened.text

    response = api.get(f"/venues/{CENTRALE}/orders", token=opened.json()["access_token"])

    assert_problem(response, 403, "permission-denied")
    assert response.json()["missing_permissions"] == ["VIEW_ORDERS"]


def test_a_pin_is_not_a_second_factor_at_a_venue_that_requires_one(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a venue of its own with a till, and a manager and a waiter with PINs, when the
    venue starts requiring a second factor of its admins, then the manager's open till
    session is refused (mfa-required: a PIN is not a second factor), while a till session of
    the waiter is served."""
    venue = new_venue(admin_db)
    till = Till(f"till-test-{uuid.uuid4().hex[:12]}", uuid.uuid4().hex, venue)
    admin_db.execute(
        "INSERT INTO oauth_clients (client_id, name, kind, secret_hash)"
        " VALUES (%s, 'Test till', 'till', %s)",
        (till.client_id, hashlib.sha256(till.client_secret.encode()).hexdigest()),
    )
    admin_db.execute(
        "INSERT INTO till_device_venues (client_id, venue_id) VALUES (%s, %s)",
        (till.client_id, venue),
    )
    pepper = api.gateway.runtime.collaborator(PinPepper)
    for role, pin in (("manager", "1357"), ("waiter", "2468")):
        digest = pepper.digests(venue, pin)[0]
        admin_db.execute(
            "INSERT INTO staff_pins (staff_member_id, venue_id, key_id, pin_hmac)"
            " VALUES (%s, %s, %s, %s)",
            (new_staff(admin_db, venue, role), venue, digest.key_id, digest.digest),
        )
    device = device_token(api, till)
    manager = enter_pin(api, device, venue, "1357").json()["access_token"]
    assert api.get(f"/venues/{venue}/orders", token=manager).status == 200

    require_mfa_for_admins(admin_db, venue, True)

    assert_problem(api.get(f"/venues/{venue}/orders", token=manager), 403, "mfa-required")
    waiter = enter_pin(api, device, venue, "2468").json()["access_token"]
    assert api.get(f"/venues/{venue}/orders", token=waiter).status == 200
