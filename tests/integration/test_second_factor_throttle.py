"""Every check of a second factor (a sign-in's TOTP or recovery code, the code that removes
the authenticator) is counted by the sign-in throttle of the account's identifier."""

from __future__ import annotations

import time
import uuid

import psycopg

from infra.local.client import ApiClient, Response
from tests.integration.test_sign_in_protection import LIMIT, failures
from tests.support.oauth import answer_mfa, authorize
from tests.support.second_factor import Enrolled, sign_in_with_second_factor


def an_ip() -> str:
    """A source IP of this test alone, so its failures never add up with other tests'."""
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}"


def lockouts(admin_db: psycopg.Connection, enrolled: Enrolled) -> int:
    row = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'auth.lockout'"
        " AND details->>'scope' = 'identifier' AND target_id = %s",
        (str(enrolled.user_id),),
    ).fetchone()
    assert row is not None
    return int(row[0])


def wrong_code_for(enrolled: Enrolled) -> str:
    """A well-formed code that is not the current one (nor its neighbours)."""
    now = time.time()
    valid = {enrolled.totp.at(now + 30 * offset) for offset in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_wrong_codes_to_remove_the_authenticator_lock_at_the_limit(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled
) -> None:
    """Given a signed-in account with an authenticator, when LIMIT wrong codes are sent to
    remove it, then each is a 422, they are counted against the account's identifier, the
    lock is audited, and the next attempt, even with the right code, is refused with
    Retry-After while the authenticator stays and password sign-ins are locked too."""
    tokens = sign_in_with_second_factor(
        api, enrolled_account.email, recovery_code=enrolled_account.recovery_codes[0]
    )
    wrong, ip = wrong_code_for(enrolled_account), an_ip()

    def remove(code: str) -> Response:
        return api.request(
            "DELETE",
            "/me/mfa/totp",
            token=tokens["access_token"],
            json_body={"code": code},
            source_ip=ip,
        )

    statuses = [remove(wrong).status for _ in range(LIMIT)]
    locked = remove(enrolled_account.totp.now())

    assert statuses == [422] * LIMIT
    assert failures(admin_db, "identifier", enrolled_account.email) == LIMIT
    assert lockouts(admin_db, enrolled_account) == 1
    assert locked.status == 429, locked.text
    assert locked.json()["code"] == "too-many-attempts"
    assert int(locked.headers["retry-after"]) > 0
    assert authorize(api, enrolled_account.email).refused
    still = admin_db.execute(
        "SELECT confirmed_at IS NOT NULL FROM user_totp WHERE user_id = %s",
        (enrolled_account.user_id,),
    ).fetchone()
    assert still == (True,)


def test_wrong_recovery_codes_at_sign_in_lock_at_the_limit(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled
) -> None:
    """Given someone with the password of an enrolled account, when they guess recovery codes,
    then LIMIT guesses lock the account: even the password is refused with Retry-After."""
    ip = an_ip()
    for i in range(LIMIT):
        challenge = authorize(api, enrolled_account.email, source_ip=ip)
        guess = answer_mfa(challenge, recovery_code=f"aaaaa-bbbb{i}")
        assert guess.refused

    locked = authorize(api, enrolled_account.email)

    assert failures(admin_db, "identifier", enrolled_account.email) == LIMIT
    assert locked.refused
    assert "retry-after" in locked.headers
