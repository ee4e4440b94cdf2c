"""Password reset from the sign-in page: the same answer and the same work whether or not an
account has the address, a link that works once and expires, the password policy and the
breach check on the new password, every session ended, throttled and audited."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from auth import passwords
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import LOCAL_ISSUER
from infra.local.mailbox import LocalMailbox
from infra.local.seed import DEMO_PASSWORD, USER
from infra.local.signin import Answer, Browser
from tenancy.db import CONNECTION_OPTIONS, GateConnection, GateCursor
from tenancy.spec import DbRole
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import authorize, begin, refresh, sign_in, through_gateway

RESET = "/oauth/password-reset"


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def ask_for_link(api: ApiClient, email: str, source_ip: str = "198.51.100.31") -> Answer:
    """ "Forgot your password?" on a new sign-in page, for ``email``."""
    page = begin(api, source_ip=source_ip)
    return page.browser.submit(page.answer, {"email": email}, action=RESET)


def link_for(mailbox: LocalMailbox, email: str) -> str:
    link = mailbox.last_link(email)
    assert link is not None, mailbox.messages(email)
    return link.removeprefix(LOCAL_ISSUER)


def set_password(api: ApiClient, link: str, password: str, again: str | None = None) -> Answer:
    browser = Browser(through_gateway(api))
    page = browser.get(link)
    assert page.status == 200, page.text
    return browser.submit(page, {"password": password, "password_again": again or password})


# --- the same answer and the same work ---------------------------------------------------------


class _Recording(GateCursor[Any]):
    def execute(self, query: Any, *args: Any, **kwargs: Any) -> _Recording:
        conn = cast("_RecordingConnection", self.connection)
        conn.statements.append(query if isinstance(query, str) else query.as_string(conn))
        super().execute(query, *args, **kwargs)
        return self


class _RecordingConnection(GateConnection):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.cursor_factory = _Recording
        self.statements: list[str] = []


class RecordingSource:
    """The issuer's connection, noting the text of every statement sent on it."""

    def __init__(self, conninfo: str) -> None:
        self.conn = _RecordingConnection.connect(conninfo, **CONNECTION_OPTIONS)

    @contextmanager
    def connection(self) -> Iterator[GateConnection]:
        yield self.conn

    def take(self) -> list[str]:
        taken, self.conn.statements = self.conn.statements, []
        return taken


@pytest.fixture
def recorded(api: ApiClient, database: postgres.Database) -> Iterator[RecordingSource]:
    """For one test, the issuer's routes run on a connection that notes its statements."""
    databases = cast("dict[DbRole, Any]", api.gateway.runtime.databases)
    kept = databases[DbRole.ISSUER]
    source = RecordingSource(database.issuer_url)
    databases[DbRole.ISSUER] = source
    try:
        yield source
    finally:
        databases[DbRole.ISSUER] = kept
        source.conn.close()


def test_a_known_and_an_unknown_address_get_the_same_page_and_the_same_work(
    api: ApiClient,
    account: str,
    mailbox: LocalMailbox,
    recorded: RecordingSource,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given one sign-in page, when a link is asked for an account's address and for an
    address no account has, then both answers are the same page byte for byte, with the
    same status and headers; both requests sent the same statements, handed one mail to the
    mail port and hashed no password (the timing class: the same work, not a stopwatch)."""
    hashed: list[str] = []

    def noting(name: str) -> Any:
        real = getattr(passwords, name)

        def call(*args: Any) -> Any:
            hashed.append(name)
            return real(*args)

        return call

    for name in ("hash_password", "verify_password", "verify_against_dummy"):
        monkeypatch.setattr(passwords, name, noting(name))
    ghost = f"ghost-{hashlib.sha256(account.encode()).hexdigest()[:8]}@io-osteria.example"
    page = begin(api)
    recorded.take()
    mail_before = len(mailbox.messages())

    known = page.browser.submit(page.answer, {"email": account}, action=RESET)
    known_work = recorded.take()
    unknown = page.browser.submit(page.answer, {"email": ghost}, action=RESET)
    unknown_work = recorded.take()

    assert known.status == unknown.status == 200
    assert known.body == unknown.body
    assert known.headers == unknown.headers
    assert len(known_work) >= 5, known_work
    assert known_work == unknown_work
    assert len(mailbox.messages()) == mail_before + 2
    assert len(mailbox.messages(account)) == 1
    assert len(mailbox.messages(ghost)) == 1
    assert mailbox.last_link(account) is not None
    assert mailbox.last_link(ghost) is None
    assert hashed == []


def test_asking_for_links_is_throttled_per_address_alike(
    api: ApiClient, account: str, admin_db: psycopg.Connection
) -> None:
    """Given an address, known or not, when a fourth link is asked for it within the window,
    then both are answered the same 429 page with Retry-After, and no fifth mail is sent."""
    ghost = f"nobody-{account}"
    answers = {
        email: [ask_for_link(api, email, source_ip=f"198.51.100.{i + 40}") for i in range(4)]
        for email in (account, ghost)
    }

    for email, asked in answers.items():
        assert [a.status for a in asked] == [200, 200, 200, 429], email
        assert int(asked[-1].headers["retry-after"]) > 0
    assert answers[account][-1].body == answers[ghost][-1].body
    kept = admin_db.execute(
        "SELECT count(*) FROM password_resets WHERE identifier_hash = %s",
        (hashlib.sha256(ghost.encode()).digest(),),
    ).fetchone()
    assert kept == (3,)


def test_asking_for_links_is_throttled_per_ip(api: ApiClient, account: str) -> None:
    """Given one IP asking links for many addresses, then it is refused at its limit."""
    answers = [ask_for_link(api, f"{i}-{account}", source_ip="203.0.113.250") for i in range(21)]

    assert [a.status for a in answers] == [200] * 20 + [429]


def test_asking_needs_the_sign_in_pages_form(api: ApiClient, account: str) -> None:
    """Given a post to the reset form that did not come from a sign-in page (no request, no
    CSRF token, no cookie), then it is refused and nothing is sent."""
    browser = Browser(through_gateway(api))

    answer = browser.post(RESET, {"request": "x", "csrf": "y", "email": account})

    assert answer.status == 400
    assert "location" not in answer.headers


# --- the link -------------------------------------------------------------------------------


def test_a_link_works_once_and_ends_every_session(
    api: ApiClient, account: str, mailbox: LocalMailbox, admin_db: psycopg.Connection
) -> None:
    """Given an account signed in twice, when it sets a new password through its link, then
    both sessions end at once (access tokens refused, refresh tokens refused), the new
    password signs in and the old one does not, the link does not work a second time, and
    the reset is audited."""
    sessions = [sign_in(api, account), sign_in(api, account)]
    ask_for_link(api, account)
    link = link_for(mailbox, account)
    new_password = "A-new-password-for-2026"

    changed = set_password(api, link, new_password)
    again = Browser(through_gateway(api)).get(link)

    assert changed.status == 200, changed.text
    for tokens in sessions:
        refused = api.get("/me", token=tokens["access_token"])
        assert (refused.status, refused.json()["code"]) == (401, "session-ended")
        assert refresh(api, tokens["refresh_token"]).status == 400
    assert authorize(api, account, new_password).code
    assert authorize(api, account, DEMO_PASSWORD).refused
    assert again.status == 400
    event = admin_db.execute(
        "SELECT details->>'sessions_revoked' FROM audit_outbox"
        " WHERE action = 'account.password_reset'"
        " AND actor_user_id = (SELECT id FROM users WHERE email = %s)",
        (account,),
    ).fetchall()
    assert event == [("2",)]


def test_a_link_expires(
    api: ApiClient, account: str, mailbox: LocalMailbox, admin_db: psycopg.Connection
) -> None:
    """Given a link past its lifetime, then its page and its form are refused and the
    password stays."""
    ask_for_link(api, account)
    link = link_for(mailbox, account)
    browser = Browser(through_gateway(api))
    page = browser.get(link)
    token = parse_qs(urlsplit(link).query)["token"][0]
    admin_db.execute(
        "UPDATE password_resets SET expires_at = now() - interval '1 second' WHERE token_hash = %s",
        (hashlib.sha256(token.encode()).digest(),),
    )

    shown = browser.get(link)
    posted = browser.submit(page, {"password": "Late-password-2026", "password_again": "x"})

    assert shown.status == 400
    assert posted.status == 400
    assert authorize(api, account, DEMO_PASSWORD).code


@pytest.mark.parametrize(
    ("who", "password", "message"),
    [
        ("waiter", "short1!", "use at least 8 characters"),
        ("waiter", "Password123!", "this password appears in a known data breach; choose another"),
        ("head_chef", "Long-but-no-digits!", "add a digit"),
        (
            "head_chef",
            "NoSymbolsInThis2026x",
            "add a symbol (anything other than a letter or digit)",
        ),
    ],
    ids=["too short", "breached", "privileged without a digit", "privileged without a symbol"],
)
def test_a_weak_or_breached_password_is_refused_with_its_rules_message(
    api: ApiClient,
    admin_db: psycopg.Connection,
    mailbox: LocalMailbox,
    who: str,
    password: str,
    message: str,
) -> None:
    """Given a reset link, when the new password breaks a rule of the policy (the stronger
    one for a privileged account) or is in a known breach, then the form says that rule's
    own message (never the password), nothing changes, and the link still works."""
    email = copy_of_demo_user(admin_db, USER[who], with_attachments=True)
    ask_for_link(api, email)
    link = link_for(mailbox, email)

    refused = set_password(api, link, password)
    accepted = set_password(api, link, "Strong-and-new-2026!")

    assert refused.status == 422, refused.text
    assert f'role="alert" id="message">{message}' in refused.text
    assert password not in refused.text
    assert accepted.status == 200, accepted.text


def test_two_different_passwords_are_refused(
    api: ApiClient, account: str, mailbox: LocalMailbox
) -> None:
    """Given a reset link, when the new password and its repetition differ, then the form
    says so and nothing changes."""
    ask_for_link(api, account)

    refused = set_password(api, link_for(mailbox, account), "First-one-2026!", "Second-one-2026!")

    assert refused.status == 422
    assert "not the same" in refused.text


def test_asking_for_a_link_is_audited(
    api: ApiClient, account: str, admin_db: psycopg.Connection
) -> None:
    """Given a link asked for, then an audit event says so, for the account when one has the
    address, with no secret in it."""
    ask_for_link(api, account)

    row = admin_db.execute(
        "SELECT target_id, details FROM audit_outbox WHERE action = 'auth.password_reset_requested'"
        " AND target_id = (SELECT id::text FROM users WHERE email = %s)",
        (account,),
    ).fetchone()
    assert row is not None
    assert row[1]["account_found"] is True
    assert "token" not in str(row[1])
