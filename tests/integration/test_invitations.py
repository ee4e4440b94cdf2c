"""Invitations through the real gate and the issuer's pages: attaching an email no account has
mails a link (never in the answer, never in a log line); the link's page creates the account
under the password policy and attaches it as invited, once; expired, used, cancelled and
tampered links get the same page; the inviter's rules apply at invite time; every step is
audited in its own transaction."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any
from urllib.parse import parse_qs, urlsplit

import psycopg
import pytest

from infra.local.client import ApiClient, Response
from infra.local.keys import LOCAL_ISSUER
from infra.local.mailbox import LocalMailbox
from infra.local.seed import INVITED_EMAIL, NORD, USER
from infra.local.signin import Answer, Browser
from tenancy.permissions import ROLE_DEFAULTS, Permission, Role
from tests.support.demo_users import attach, new_user
from tests.support.logs import WrittenLog
from tests.support.oauth import authorize, through_gateway
from tests.support.people import PeopleVenue, audit_events, people_at, people_venue

PASSWORD = "A-fine-password-2026"


@pytest.fixture
def venue(admin_db: psycopg.Connection) -> PeopleVenue:
    return people_venue(admin_db)


def attachments(venue_id: uuid.UUID) -> str:
    return f"/venues/{venue_id}/attachments"


def delete(api: ApiClient, path: str, **kwargs: Any) -> Response:
    return api.request("DELETE", path, **kwargs)


def new_address() -> str:
    return f"invited-{uuid.uuid4().hex[:12]}@io-osteria.example"


def invite(
    api: ApiClient, venue: PeopleVenue, email: str, role: str = "waiter", **body: Any
) -> Response:
    return api.request(
        "POST",
        attachments(venue.venue_id),
        as_user=venue.manager,
        json_body={"email": email, "role": role, **body},
    )


def link_for(mailbox: LocalMailbox, email: str) -> str:
    link = mailbox.last_link(email, kind="invitation")
    assert link is not None, mailbox.messages(email)
    return link.removeprefix(LOCAL_ISSUER)


def token_of(link: str) -> str:
    return parse_qs(urlsplit(link).query)["token"][0]


def accept(
    api: ApiClient,
    link: str,
    password: str = PASSWORD,
    again: str | None = None,
    name: str = "Nina Nuova",
) -> Answer:
    browser = Browser(through_gateway(api))
    page = browser.get(link)
    assert page.status == 200, page.text
    return browser.submit(
        page,
        {"display_name": name, "password": password, "password_again": again or password},
    )


def invitation_rows(admin_db: psycopg.Connection, email: str) -> list[tuple[Any, ...]]:
    return admin_db.execute(
        "SELECT id, venue_id, role, permissions, accepted_at IS NOT NULL, xmin::text"
        " FROM venue_invitations WHERE email = %s ORDER BY created_at",
        (email,),
    ).fetchall()


def account(admin_db: psycopg.Connection, email: str) -> tuple[Any, ...] | None:
    return admin_db.execute(
        "SELECT id, display_name, xmin::text FROM users WHERE email = %s", (email,)
    ).fetchone()


def event_xmin(admin_db: psycopg.Connection, event_id: uuid.UUID) -> str:
    row = admin_db.execute(
        "SELECT xmin::text FROM audit_outbox WHERE id = %s", (event_id,)
    ).fetchone()
    assert row is not None
    xmin: str = row[0]
    return xmin


# --- inviting --------------------------------------------------------------------------------


def test_inviting_an_unknown_email_mails_a_link_that_no_answer_or_log_line_holds(
    api: ApiClient,
    admin_db: psycopg.Connection,
    mailbox: LocalMailbox,
    venue: PeopleVenue,
    written_log: WrittenLog,
) -> None:
    """Given an address no account has, when the venue's manager attaches it as a waiter,
    then the answer is 201 with a pending invitation (no user, the waiter's flags, when it
    expires) and no token; one mail to the address holds a link to the issuer's page, which
    opens; the token is stored only as its SHA-256, appears in no log line (the inviter's
    request's nor the page's) and no audit event; and the invitation and its event were
    written in one transaction."""
    email = new_address()

    response = invite(api, venue, email.upper())
    page = Browser(through_gateway(api)).get(link_for(mailbox, email))

    assert response.status == 201, response.text
    body = response.json()
    assert (body["status"], body["user_id"], body["email"], body["role"]) == (
        "invited",
        None,
        email,
        "waiter",
    )
    assert body["permissions"] == ROLE_DEFAULTS[Role.WAITER].names()
    assert body["expires_at"] > body["created_at"]
    (message,) = mailbox.messages(email)
    link = link_for(mailbox, email)
    token = token_of(link)
    assert link.startswith("/oauth/invitation?token=")
    assert "invited" in message.subject.lower()
    assert token not in response.text
    assert page.status == 200, page.text
    logged = written_log.text().splitlines()
    assert any("POST /venues/{venue_id}/attachments" in line for line in logged)
    assert any("GET /oauth/invitation" in line for line in logged)
    assert not [line for line in logged if token in line]
    stored = admin_db.execute(
        "SELECT id, token_hash, invited_by, xmin::text FROM venue_invitations WHERE email = %s",
        (email,),
    ).fetchall()
    assert len(stored) == 1
    invitation_id, token_hash, invited_by, xmin = stored[0]
    assert str(invitation_id) == body["invitation_id"]
    assert bytes(token_hash) == hashlib.sha256(token.encode()).digest()
    assert invited_by == venue.manager
    (event,) = audit_events(admin_db, action="staff.invited", target_id=str(invitation_id))
    assert (event["venue_id"], event["actor_user_id"]) == (venue.venue_id, venue.manager)
    assert event["details"]["after"] == {
        "role": "waiter",
        "permissions": ROLE_DEFAULTS[Role.WAITER].names(),
    }
    assert token not in str(event)
    assert event_xmin(admin_db, event["id"]) == xmin


def test_the_list_shows_an_open_invitation_and_an_expired_one_as_such(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given two invitations at the venue, one past its lifetime, when the manager lists the
    attachments, then both are there after the accounts, as invited and expired, with their
    ids (to cancel them) and no token."""
    first, second = new_address(), new_address()
    invite(api, venue, first)
    invite(api, venue, second, "casual")
    admin_db.execute(
        "UPDATE venue_invitations SET expires_at = now() - interval '1 second' WHERE email = %s",
        (second,),
    )

    listed = api.get(attachments(venue.venue_id), as_user=venue.manager)

    assert listed.status == 200, listed.text
    rows = listed.json()["attachments"]
    assert [r["status"] for r in rows[:2]] == ["attached", "attached"]
    by_email = {r["email"]: r for r in rows[2:]}
    assert (by_email[first]["status"], by_email[second]["status"]) == ("invited", "expired")
    assert (by_email[first]["role"], by_email[second]["role"]) == ("waiter", "casual")
    assert by_email[first]["invitation_id"] is not None
    assert "token" not in listed.text


def test_inviting_again_replaces_the_open_invitation_and_its_link(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an open invitation, when the manager invites the same address again (another
    role), then there is one open invitation, with the new role; the first link no longer
    works and the second does."""
    email = new_address()
    invite(api, venue, email)
    first = link_for(mailbox, email)

    again = invite(api, venue, email, "casual")
    second = link_for(mailbox, email)

    assert again.status == 201, again.text
    assert first != second
    assert [(row[2], row[4]) for row in invitation_rows(admin_db, email)] == [("casual", False)]
    assert Browser(through_gateway(api)).get(first).status == 400
    assert accept(api, second).status == 200


# --- the inviter's rules -----------------------------------------------------------------------


def test_a_manager_cannot_invite_an_owner_and_the_attempt_is_audited(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given a manager, when they invite an address as owner, or as a waiter with a flag
    they lack, then each is refused (role-not-grantable, permission-not-grantable), no
    invitation is written and no mail sent, and each attempt is a critical audit event."""
    email = new_address()

    owner = invite(api, venue, email, "owner")
    flag = invite(api, venue, email, "waiter", permissions=["MANAGE_GROUP"])

    assert (owner.status, owner.json()["code"]) == (403, "role-not-grantable")
    assert (flag.status, flag.json()["code"]) == (403, "permission-not-grantable")
    assert invitation_rows(admin_db, email) == []
    assert mailbox.messages(email) == []
    refusals = audit_events(admin_db, action="staff.change_refused", venue_id=venue.venue_id)
    assert [e["details"]["attempt"] for e in refusals] == ["invite", "invite"]
    assert all(e["critical"] for e in refusals)


def test_without_manage_staff_or_at_another_venue_nobody_invites_or_sees_an_invitation(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an open invitation at the venue, a waiter of the venue and the manager of
    another venue, when they invite, list or cancel, then the waiter is refused
    (permission-denied) and the other manager meets another venue (venue-access-denied
    at this venue's routes; their own venue lists no such invitation, and cancelling its id
    there is not found); nothing is written and no mail sent."""
    email = new_address()
    invitation_id = invite(api, venue, email).json()["invitation_id"]
    waiter = new_user(admin_db, "Waiter")
    attach(admin_db, waiter, venue.venue_id, Role.WAITER)
    other = people_venue(admin_db)
    before = invitation_rows(admin_db, email)
    other_email = new_address()

    by_waiter = [
        api.request(
            "POST",
            attachments(venue.venue_id),
            as_user=waiter,
            json_body={"email": other_email, "role": "casual"},
        ),
        api.get(attachments(venue.venue_id), as_user=waiter),
        delete(api, f"{attachments(venue.venue_id)}/{invitation_id}", as_user=waiter),
    ]
    by_other = [
        api.request(
            "POST",
            attachments(venue.venue_id),
            as_user=other.manager,
            json_body={"email": other_email, "role": "casual"},
        ),
        api.get(attachments(venue.venue_id), as_user=other.manager),
        delete(api, f"{attachments(venue.venue_id)}/{invitation_id}", as_user=other.manager),
    ]
    own_list = api.get(attachments(other.venue_id), as_user=other.manager)
    own_cancel = delete(
        api, f"{attachments(other.venue_id)}/{invitation_id}", as_user=other.manager
    )

    assert [(r.status, r.json()["code"]) for r in by_waiter] == [(403, "permission-denied")] * 3
    assert [(r.status, r.json()["code"]) for r in by_other] == [(403, "venue-access-denied")] * 3
    assert own_list.status == 200
    assert email not in own_list.text
    assert (own_cancel.status, own_cancel.json()["code"]) == (404, "not-found")
    assert invitation_rows(admin_db, email) == before
    assert invitation_rows(admin_db, other_email) == []
    assert mailbox.messages(other_email) == []


# --- accepting ---------------------------------------------------------------------------------


def test_accepting_with_a_good_password_creates_the_account_attached_as_invited(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an invitation as a head chef with one flag less than the role's, when the person
    follows the link and sets a good password, then the account exists with their name, is
    attached with exactly that role and those flags, signs in with the password (nobody was
    signed in by the page), the invitation is consumed, and account, attachment,
    consumption and audit event were written in one transaction."""
    email = new_address()
    flags = ROLE_DEFAULTS[Role.HEAD_CHEF] & ~Permission.CLOSE_SHIFT
    invite(api, venue, email, "head_chef", permissions=flags.names())
    link = link_for(mailbox, email)

    accepted = accept(api, link, name="  Nina Nuova ")

    assert accepted.status == 200, accepted.text
    assert "sign in" in accepted.text
    created = account(admin_db, email)
    assert created is not None
    user_id, name, user_xmin = created
    assert name == "Nina Nuova"
    attached = admin_db.execute(
        "SELECT role, permissions, xmin::text FROM venue_attachments"
        " WHERE venue_id = %s AND user_id = %s",
        (venue.venue_id, user_id),
    ).fetchone()
    assert attached == ("head_chef", int(flags), user_xmin)
    ((invitation_id, _, _, _, consumed, invitation_xmin),) = invitation_rows(admin_db, email)
    assert consumed
    assert invitation_xmin == user_xmin
    (event,) = audit_events(admin_db, action="staff.invitation_accepted", venue_id=venue.venue_id)
    assert (event["actor_user_id"], event["target_id"]) == (user_id, str(user_id))
    assert event["details"]["invitation_id"] == str(invitation_id)
    assert event["details"]["after"] == {"role": "head_chef", "permissions": flags.names()}
    assert event_xmin(admin_db, event["id"]) == user_xmin
    signed_in_by_the_page = admin_db.execute(
        "SELECT count(*) FROM auth_sessions WHERE user_id = %s", (user_id,)
    ).fetchone()
    assert signed_in_by_the_page == (0,)
    assert authorize(api, email, PASSWORD).code


def test_the_link_works_once(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an accepted invitation, when its link is opened or posted again, then both are
    refused with the dead-link page and nothing more is written."""
    email = new_address()
    invite(api, venue, email)
    link = link_for(mailbox, email)
    browser = Browser(through_gateway(api))
    page = browser.get(link)
    assert accept(api, link).status == 200
    before = people_at(admin_db, venue.venue_id)

    shown = browser.get(link)
    posted = browser.submit(
        page, {"display_name": "Again", "password": PASSWORD, "password_again": PASSWORD}
    )

    assert (shown.status, posted.status) == (400, 400)
    assert "This link does not work" in shown.text
    assert people_at(admin_db, venue.venue_id) == before


def test_expired_cancelled_used_and_tampered_links_get_the_same_page(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an expired, a cancelled, a used and a tampered link, when each is opened and
    posted, then every answer is the same 400 page (nothing says which it was), no account
    is made, and the expired invitation stays unconsumed."""
    links = {}
    for kind in ("expired", "cancelled", "used", "tampered"):
        email = new_address()
        invitation = invite(api, venue, email).json()
        links[kind] = (email, link_for(mailbox, email), invitation["invitation_id"])
    admin_db.execute(
        "UPDATE venue_invitations SET expires_at = now() - interval '1 second' WHERE email = %s",
        (links["expired"][0],),
    )
    cancelled = delete(
        api, f"{attachments(venue.venue_id)}/{links['cancelled'][2]}", as_user=venue.manager
    )
    assert cancelled.status == 204, cancelled.text
    assert accept(api, links["used"][1]).status == 200
    email, link, _ = links["tampered"]
    token = token_of(link)
    links["tampered"] = (
        email,
        link.replace(token, token[:-2] + ("AA" if token[-2:] != "AA" else "BB")),
        "",
    )

    pages = []
    for _, link, _ in links.values():
        browser = Browser(through_gateway(api))
        shown = browser.get(link)
        posted = browser.post(
            "/oauth/invitation",
            {
                "token": token_of(link),
                "display_name": "Late",
                "password": PASSWORD,
                "password_again": PASSWORD,
            },
        )
        pages += [shown, posted]

    assert {(p.status, p.text) for p in pages} == {(pages[0].status, pages[0].text)}
    assert pages[0].status == 400
    for kind in ("expired", "cancelled", "tampered"):
        assert account(admin_db, links[kind][0]) is None
    assert [row[4] for row in invitation_rows(admin_db, links["expired"][0])] == [False]


@pytest.mark.parametrize(
    ("role", "password", "message"),
    [
        ("waiter", "short1!", "use at least 8 characters"),
        ("waiter", "Password123!", "this password appears in a known data breach; choose another"),
        ("manager", "Long-but-no-digits!", "add a digit"),
    ],
    ids=["too short", "breached", "privileged without a digit"],
)
def test_a_weak_or_breached_password_is_refused_and_the_link_still_works(
    api: ApiClient,
    admin_db: psycopg.Connection,
    mailbox: LocalMailbox,
    role: str,
    password: str,
    message: str,
) -> None:
    """Given an invitation (as a waiter, or as a manager, whose password is held to the
    stronger rules), when the password breaks a rule or is in a known breach, then the form
    says that rule's own message (never the password), no account is made, and the same
    link then accepts a good password."""
    venue = people_venue(admin_db)
    owner = PeopleVenue(venue.venue_id, venue.owner, venue.owner)
    email = new_address()
    assert invite(api, owner, email, role).status == 201
    link = link_for(mailbox, email)

    refused = accept(api, link, password)
    nothing = account(admin_db, email)
    accepted = accept(api, link, "Strong-and-new-2026!")

    assert refused.status == 422, refused.text
    assert f'role="alert" id="message">{message}' in refused.text
    assert password not in refused.text
    assert nothing is None
    assert accepted.status == 200, accepted.text


def test_two_different_passwords_or_no_name_are_refused(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    email = new_address()
    invite(api, venue, email)
    link = link_for(mailbox, email)

    differ = accept(api, link, PASSWORD, "Another-one-2026!")
    blank = accept(api, link, name="   ")

    assert (differ.status, blank.status) == (422, 422)
    assert "not the same" in differ.text
    assert "Tell us your name" in blank.text
    assert account(admin_db, email) is None


def test_an_address_with_an_account_by_now_is_refused_and_attaching_it_replaces_the_invitation(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an open invitation whose address has since got an account, when the link is
    followed, then the page says an account already uses the address (409), and nothing is
    written: the account's password is untouched and it is not attached; when the manager
    then attaches that account, the invitation is gone and its link is dead."""
    email = new_address()
    invite(api, venue, email)
    link = link_for(mailbox, email)
    user_id = uuid.uuid4()
    admin_db.execute(
        "INSERT INTO users (id, email, display_name) VALUES (%s, %s, 'Came on their own')",
        (user_id, email),
    )

    shown = Browser(through_gateway(api)).get(link)
    before = people_at(admin_db, venue.venue_id)
    attached = invite(api, venue, email)
    after_attach = Browser(through_gateway(api)).get(link)

    assert shown.status == 409
    assert "already uses this address" in shown.text
    assert attached.status == 201, attached.text
    assert (attached.json()["status"], attached.json()["user_id"]) == ("attached", str(user_id))
    assert invitation_rows(admin_db, email) == []
    assert after_attach.status == 400
    assert before != people_at(admin_db, venue.venue_id)
    (event,) = audit_events(admin_db, action="staff.attached", target_id=str(user_id))
    assert "replaced_invitation" in event["details"]


# --- cancelling -----------------------------------------------------------------------------


def test_cancelling_an_invitation_deletes_it_audited_and_its_link_then_fails(
    api: ApiClient, admin_db: psycopg.Connection, mailbox: LocalMailbox, venue: PeopleVenue
) -> None:
    """Given an open invitation, when the manager deletes it by its id, then it is gone
    from the list, its link shows the dead-link page, and the cancellation is audited."""
    email = new_address()
    invitation_id = invite(api, venue, email).json()["invitation_id"]
    link = link_for(mailbox, email)

    cancelled = delete(api, f"{attachments(venue.venue_id)}/{invitation_id}", as_user=venue.manager)
    listed = api.get(attachments(venue.venue_id), as_user=venue.manager)
    page = Browser(through_gateway(api)).get(link)

    assert cancelled.status == 204, cancelled.text
    assert email not in listed.text
    assert page.status == 400
    (event,) = audit_events(
        admin_db, action="staff.invitation_cancelled", target_id=str(invitation_id)
    )
    assert (event["venue_id"], event["actor_user_id"]) == (venue.venue_id, venue.manager)


def test_a_manager_cannot_cancel_an_owners_invitation(
    api: ApiClient, admin_db: psycopg.Connection, venue: PeopleVenue
) -> None:
    """Given an invitation as owner, sent by the owner, when the manager cancels it, then
    it is refused (outranks-you), audited, and the invitation stays."""
    email = new_address()
    owner = PeopleVenue(venue.venue_id, venue.owner, venue.owner)
    invitation_id = invite(api, owner, email, "owner").json()["invitation_id"]

    refused = delete(api, f"{attachments(venue.venue_id)}/{invitation_id}", as_user=venue.manager)

    assert (refused.status, refused.json()["code"]) == (403, "outranks-you")
    assert len(invitation_rows(admin_db, email)) == 1
    (event,) = audit_events(admin_db, action="staff.change_refused", target_id=invitation_id)
    assert event["details"]["attempt"] == "cancel_invitation"


def test_an_invitation_cannot_be_changed_like_an_attachment(
    api: ApiClient, venue: PeopleVenue
) -> None:
    """An invitation is cancelled and sent again, never changed: PATCH of its id is 404."""
    invitation_id = invite(api, venue, new_address()).json()["invitation_id"]

    changed = api.patch(
        f"{attachments(venue.venue_id)}/{invitation_id}",
        as_user=venue.manager,
        json_body={"role": "casual"},
    )

    assert (changed.status, changed.json()["code"]) == (404, "not-found")


def test_the_demo_seed_has_one_invitation_pending_at_nord(api: ApiClient) -> None:
    """Given the demo data, when nord's regional manager lists nord's attachments, then the
    seed's invitation of nord's new waiter is there, pending (made through the route's own
    logic, so `make dev` shows one)."""
    listed = api.get(attachments(NORD), as_user=USER["regional"].id)

    assert listed.status == 200, listed.text
    (invited,) = [row for row in listed.json()["attachments"] if row["email"] == INVITED_EMAIL]
    assert (invited["status"], invited["role"], invited["user_id"]) == ("invited", "waiter", None)
