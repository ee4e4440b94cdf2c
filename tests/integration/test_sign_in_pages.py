"""The second factor on the sign-in pages: wrong, reused and spent codes are refused, the
lockout counts the page's attempts exactly (in parallel too), and a platform admin without a
second factor sets one up on the pages before any code is issued."""

from __future__ import annotations

import re
import time
import uuid
from concurrent.futures import ThreadPoolExecutor

import jwt
import psycopg
import pyotp

from infra.local.client import ApiClient
from infra.local.seed import USER
from tests.integration.test_sign_in_protection import LIMIT, failures
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import Started, answer_mfa, authorize, exchange
from tests.support.second_factor import Enrolled


def an_ip() -> str:
    """A source IP of this test alone, so its failures never add up with other tests'."""
    return f"192.0.2.{uuid.uuid4().int % 250 + 1}"


def wrong_code_for(totp: pyotp.TOTP) -> str:
    """A well-formed code that is not the current one (nor its neighbours)."""
    now = time.time()
    valid = {totp.at(now + 30 * offset) for offset in (-2, -1, 0, 1, 2)}
    return next(c for c in ("000000", "111111", "222222", "333333") if c not in valid)


def test_wrong_reused_and_spent_codes_are_refused_on_the_page(
    api: ApiClient, enrolled_account: Enrolled
) -> None:
    """Given an enrolled account on the second factor's page, when it gives a wrong code,
    then the page says so and no code goes to the client; a right code signs it in; the same
    TOTP code on a new sign-in is refused; a recovery code works once and is refused the
    second time."""
    ip = an_ip()
    first = authorize(api, enrolled_account.email, source_ip=ip)
    totp_code = enrolled_account.totp.now()

    wrong = answer_mfa(first, code=wrong_code_for(enrolled_account.totp))
    right = answer_mfa(first, code=totp_code)
    reused = answer_mfa(authorize(api, enrolled_account.email, source_ip=ip), code=totp_code)
    recovery = enrolled_account.recovery_codes[0]
    once = answer_mfa(authorize(api, enrolled_account.email, source_ip=ip), recovery_code=recovery)
    twice = answer_mfa(authorize(api, enrolled_account.email, source_ip=ip), recovery_code=recovery)

    assert wrong.refused
    assert wrong.message == "The code is not right."
    assert right.code
    assert reused.refused
    assert once.code
    assert twice.refused
    for refused in (wrong, reused, twice):
        assert "location" not in refused.headers


def test_parallel_wrong_codes_on_the_page_lock_exactly_at_the_limit(
    api: ApiClient, admin_db: psycopg.Connection, enrolled_account: Enrolled
) -> None:
    """Given someone with an enrolled account's password and many second-factor pages open,
    when 40 wrong codes are posted in parallel, then exactly LIMIT are counted, the lock is
    audited once, every answer is a refusal, and the right code is refused while locked."""
    pages = [authorize(api, enrolled_account.email, source_ip=an_ip()) for _ in range(40)]
    assert all(page.asks_for_second_factor for page in pages)
    wrong = wrong_code_for(enrolled_account.totp)

    with ThreadPoolExecutor(max_workers=16) as pool:
        answers = list(pool.map(lambda page: answer_mfa(page, code=wrong), pages))
    locked = answer_mfa(pages[0], code=enrolled_account.totp.now())

    assert all(answer.refused for answer in answers)
    assert failures(admin_db, "identifier", enrolled_account.email) == LIMIT
    lockouts = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'auth.lockout'"
        " AND details->>'scope' = 'identifier' AND target_id = %s",
        (str(enrolled_account.user_id),),
    ).fetchone()
    assert lockouts == (1,)
    assert locked.refused
    assert int(locked.headers["retry-after"]) > 0


def test_a_platform_admin_without_a_second_factor_sets_one_up_on_the_pages(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given a platform admin with a password and no authenticator, when they sign in, then
    the password leads to the page that sets one up (no code yet); a wrong code is refused
    there; the right one shows ten recovery codes once, and continuing sends the code to
    the client: a session with the second factor (pwd, otp) and the full scope."""
    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE email = %s", (email,))

    setup = authorize(api, email)
    key = re.search(r'<code class="secret">([A-Z2-7]+)</code>', setup.text)
    assert key is not None, setup.text
    totp = pyotp.TOTP(key.group(1))
    wrong = setup.then(setup.browser.submit(setup.answer, {"code": wrong_code_for(totp)}))
    codes = setup.then(setup.browser.submit(wrong.answer, {"code": totp.now()}))
    shown = re.findall(r"<li>([a-z2-9]{5}-[a-z2-9]{5})</li>", codes.text)
    done = codes.then(codes.browser.submit(codes.answer, {}))
    tokens = exchange(api, Started(done.code, done.verifier)).json()

    assert setup.status == 200
    assert "location" not in setup.headers
    assert wrong.status == 400
    assert wrong.message == "The code is not right."
    assert codes.status == 200
    assert len(set(shown)) == 10
    claims = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    assert claims["amr"] == ["pwd", "otp"]
    assert tokens["scope"] == "account venue"
    enabled = admin_db.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'account.mfa_enabled'"
        " AND actor_user_id = (SELECT id FROM users WHERE email = %s)",
        (email,),
    ).fetchone()
    assert enabled == (1,)
