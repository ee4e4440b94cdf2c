"""Brute-force limits, no user enumeration, password changes and the second factor."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pyotp
import pytest

from auth.config import Issuer
from infra.local.client import ApiClient
from infra.local.seed import DEMO_PASSWORD, LUME, USER
from tenancy.permissions import Role
from tests.support.demo_users import account_id, attach, copy_of_demo_user
from tests.support.oauth import (
    answer_mfa,
    authorize,
    begin,
    demo_totp_code,
    exchange,
    refresh,
    sign_in,
    start,
)

LIMIT = 5  # IssuerSettings.signin_max_failures_per_identifier
IP_LIMIT = 50  # IssuerSettings.signin_max_failures_per_ip


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    """An account with the demo password and no venue, made for one test (so locks and
    sessions do not leak into others)."""
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def failures(admin_db: psycopg.Connection, scope: str, key: str) -> int:
    row = admin_db.execute(
        "SELECT count(*) FROM sign_in_failures WHERE scope = %s AND key = %s", (scope, key)
    ).fetchone()
    assert row is not None
    return int(row[0])


def let_the_window_pass(admin_db: psycopg.Connection, key: str) -> None:
    admin_db.execute(
        "UPDATE sign_in_failures SET failed_at = failed_at - interval '16 minutes' WHERE key = %s",
        (key,),
    )


def test_parallel_wrong_passwords_lock_the_account_exactly_at_the_limit(
    api: ApiClient, admin_db: psycopg.Connection, issuer: Issuer, account: str
) -> None:
    """Given 200 wrong-password attempts in parallel, then exactly LIMIT of them are counted,
    the correct password is refused while locked (with Retry-After), and works again once the
    window has passed."""
    assert issuer.settings.signin_max_failures_per_identifier == LIMIT

    def attempt(i: int) -> bool:
        ip = f"203.0.113.{i % 200 + 1}"  # many IPs: the identifier limit is what locks
        return authorize(api, account, f"wrong-{i}", source_ip=ip).refused

    with ThreadPoolExecutor(max_workers=16) as pool:
        refusals = list(pool.map(attempt, range(200)))

    assert set(refusals) == {True}
    assert failures(admin_db, "identifier", account) == LIMIT
    locked = authorize(api, account, DEMO_PASSWORD)
    assert locked.refused
    assert int(locked.headers["retry-after"]) > 0
    lockouts = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'auth.lockout'"
        " AND details->>'scope' = 'identifier' AND target_id = (SELECT id::text FROM users"
        " WHERE email = %s)",
        (account,),
    ).fetchone()
    assert lockouts == (1,)

    let_the_window_pass(admin_db, account)

    assert authorize(api, account, DEMO_PASSWORD).redirect["code"]


def test_an_ip_spraying_many_accounts_is_locked_without_locking_the_accounts(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given one IP trying one password on many accounts, the IP locks at its limit, and the
    same accounts still sign in from other IPs."""
    sprayer = f"192.0.2.{uuid.uuid4().int % 250 + 1}"
    victims = [f"nobody-{i}-{uuid.uuid4().hex[:6]}@io-osteria.example" for i in range(IP_LIMIT)]
    for victim in victims:
        authorize(api, victim, "Summer2024!", source_ip=sprayer)

    from_sprayer = authorize(api, USER["casual"].email, source_ip=sprayer)
    from_elsewhere = authorize(api, USER["casual"].email, source_ip="198.51.100.200")

    assert failures(admin_db, "ip", sprayer) == IP_LIMIT
    assert from_sprayer.refused
    assert "retry-after" in from_sprayer.headers
    assert from_elsewhere.redirect["code"]
    let_the_window_pass(admin_db, sprayer)


def test_unknown_and_known_emails_get_byte_identical_refusals(api: ApiClient, account: str) -> None:
    """Given one sign-in page, when its form is posted with a known email and a wrong
    password, and with an unknown email, then both answers are the same page, byte for byte
    but for the email kept in its field, with the same status and headers."""
    page = begin(api)
    ghost = f"ghost-{uuid.uuid4().hex[:8]}@io-osteria.example"

    known = page.browser.submit(page.answer, {"email": account, "password": "not-the-password"})
    unknown = page.browser.submit(page.answer, {"email": ghost, "password": "x"})

    assert known.status == unknown.status == 400
    assert known.body.replace(account.encode(), b"EMAIL") == unknown.body.replace(
        ghost.encode(), b"EMAIL"
    )
    assert known.headers == unknown.headers
    assert page.then(known).message == "The email or password is not right."


# --- the account's password ------------------------------------------------------------------


def change_password(api: ApiClient, token: str, current: str, new: str) -> tuple[int, dict]:  # type: ignore[type-arg]
    response = api.request(
        "POST",
        "/me/password",
        token=token,
        json_body={"current_password": current, "new_password": new},
    )
    return response.status, response.json()


@pytest.mark.parametrize(
    ("new_password", "rule"),
    [
        ("Sh0rt!pass", "too-short"),
        ("nouppercase-2026-pass", "needs-uppercase"),
        ("NOLOWERCASE-2026-PASS", "needs-lowercase"),
        ("No-Digits-In-This-One", "needs-digit"),
        ("NoSymbolsInThis2026x", "needs-symbol"),
        ("Password123!", "breached"),
    ],
)
def test_a_privileged_password_must_meet_every_rule(
    api: ApiClient, new_password: str, rule: str
) -> None:
    """Given the head chef (elevated flags), each rule's refusal names that rule, and the
    password itself never comes back."""
    token = sign_in(api, USER["head_chef"].email)["access_token"]

    status, body = change_password(api, token, DEMO_PASSWORD, new_password)

    assert status == 422
    assert body["code"] == "weak-password"
    assert body["rule"] == rule
    assert new_password not in str(body)


def test_a_long_password_works_and_other_sessions_are_signed_out(
    api: ApiClient, account: str
) -> None:
    """Given two sessions of one person, when they set a 128-character password in one, then
    it works for signing in, and the other session's refresh token stops working."""
    other = sign_in(api, account)
    this = sign_in(api, account)
    long_password = ("Aa1!" + uuid.uuid4().hex) * 4
    long_password = long_password[:128]

    status, body = change_password(api, this["access_token"], DEMO_PASSWORD, long_password)

    assert status == 200, body
    assert body["other_sessions_revoked"] >= 1
    assert refresh(api, other["refresh_token"]).status == 400
    assert refresh(api, this["refresh_token"]).status == 200
    assert authorize(api, account, long_password).redirect["code"]


def test_the_current_password_is_required(api: ApiClient, account: str) -> None:
    token = sign_in(api, account)["access_token"]

    status, body = change_password(api, token, "not-it", "Another-Long-Pass-2026!")

    assert status == 403
    assert body["code"] == "wrong-password"


# --- the second factor -----------------------------------------------------------------------


def test_an_enrolled_account_must_give_its_second_factor(api: ApiClient) -> None:
    """Given the platform admin (TOTP enrolled), the password alone yields no code but the
    second factor's page; a wrong code is refused on it; a current TOTP code completes the
    sign-in; the same code cannot be used twice."""
    first = authorize(api, USER["platform_admin"].email)
    assert first.asks_for_second_factor
    assert "location" not in first.headers

    wrong = answer_mfa(first, code="000000")
    code = demo_totp_code()
    ok = answer_mfa(first, code=code)
    second = authorize(api, USER["platform_admin"].email)
    reused = answer_mfa(second, code=code)

    assert wrong.refused
    assert wrong.message == "The code is not right."
    assert ok.redirect["code"], ok.text
    assert reused.refused
    assert "location" not in reused.headers


def test_enrolment_recovery_codes_and_removal(api: ApiClient, account: str) -> None:
    """Given a waiter who enrols TOTP, then sign-in asks for it; a recovery code works once;
    removing MFA needs a current code."""
    token = sign_in(api, account)["access_token"]
    enrol = api.request("POST", "/me/mfa/totp", token=token)
    assert enrol.status == 201, enrol.text
    totp = pyotp.TOTP(enrol.json()["secret"])
    assert enrol.json()["otpauth_uri"].startswith("otpauth://totp/")

    wrong = api.request("POST", "/me/mfa/totp/confirm", token=token, json_body={"code": "123456"})
    confirmed = api.request(
        "POST", "/me/mfa/totp/confirm", token=token, json_body={"code": totp.now()}
    )
    assert wrong.status == 422
    assert confirmed.status == 200, confirmed.text
    recovery = confirmed.json()["recovery_codes"]
    assert len(set(recovery)) == 10

    challenge = authorize(api, account)
    assert challenge.asks_for_second_factor
    used = answer_mfa(challenge, recovery_code=recovery[0])
    again = authorize(api, account)
    twice = answer_mfa(again, recovery_code=recovery[0])
    assert used.redirect["code"]
    assert twice.refused

    refused = api.request("DELETE", "/me/mfa/totp", token=token, json_body={"code": "000000"})
    assert refused.status == 422


def test_an_admin_who_must_enrol_gets_an_enrolment_only_token(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a venue that requires MFA for its managers, a manager without a second factor
    signs in to a token that can enrol one but cannot open the venue."""
    attach(admin_db, account_id(admin_db, account), LUME, Role.MANAGER)
    admin_db.execute(
        "UPDATE venue_settings SET require_mfa_for_admins = true WHERE venue_id = %s", (LUME,)
    )
    try:
        tokens = exchange(api, start(api, account)).json()

        assert tokens["scope"] == "mfa-enrolment"
        refused = api.get(f"/venues/{LUME}/orders", token=tokens["access_token"])
        assert refused.status == 403
        assert refused.json()["code"] == "insufficient-scope"
        assert api.request("POST", "/me/mfa/totp", token=tokens["access_token"]).status == 201
    finally:
        admin_db.execute(
            "UPDATE venue_settings SET require_mfa_for_admins = false WHERE venue_id = %s",
            (LUME,),
        )


def test_the_right_password_does_not_reset_the_count_of_wrong_codes(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given someone who knows the platform admin's password, when they alternate the
    password with guessed TOTP codes, then the guesses still add up to a lock."""
    admin = USER["platform_admin"].email
    admin_db.execute("DELETE FROM sign_in_failures WHERE key = %s", (admin,))
    try:
        for _ in range(LIMIT):
            challenge = authorize(api, admin, source_ip="198.51.100.77")
            assert answer_mfa(challenge, code="000000").refused

        after_limit = authorize(api, admin, source_ip="198.51.100.78")

        assert after_limit.refused
        assert "retry-after" in after_limit.headers
    finally:
        admin_db.execute("DELETE FROM sign_in_failures WHERE key = %s", (admin,))
