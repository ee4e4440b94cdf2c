"""Invitations: attaching an email that has no account invites the person (docs/decisions.md,
"Invitations").

The venue side (``staff.logic.attach``, and ``platform_admin.logic.create_venue`` for a new
venue's first owner) writes the invitation with the rules of attaching (no role or flag the
inviter lacks) and mails its link through the one mail port (``tenancy.invitations``); the
response to the inviter never holds the link. The link's token is made and stored like a
password-reset link's (``tenancy.links``): random, single use, expiring, kept only as its
SHA-256.

The person follows the link to the issuer's page (GET shows the form, POST sets the
password under the same policy and breach check as a reset), which, in one transaction,
creates the account, consumes the invitation and attaches the account to the venue with the
invited role and flags, audited at the venue. Nobody is signed in: like a reset, the page
sends the person back to the app to sign in.

An unknown, tampered, used, cancelled or expired link gets the same page, which says none of
which it was. An address that got an account since the invitation was sent is refused at
the page (nothing written; the invitation stays open): the manager attaches the account
instead, which replaces the invitation.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import psycopg

from tenancy import HtmlPage, Permission, Problem
from tenancy.audit import record
from tenancy.links import digest
from tenancy.permissions import ELEVATED

if TYPE_CHECKING:
    from auth.config import Issuer
    from auth.models import InvitationForm

__all__ = ["accept", "link_page"]

_DEAD_LINK = (
    "This invitation link has expired, was already used, or was cancelled.",
    "Ask whoever invited you to invite you again.",
)
_ACCOUNT_EXISTS = (
    "An account already uses this address.",
    "Sign in with it (\u201cForgot your password?\u201d on the sign-in page if you need a new"
    " one), and ask whoever invited you to attach that account.",
)


def _form(
    token: str,
    *,
    message: str | None = None,
    status: int = 200,
    headers: dict[str, str] | None = None,
    display_name: str = "",
) -> HtmlPage:
    from auth import pages

    return pages.new_password_form(
        pages.INVITATION,
        token,
        title="Accept your invitation",
        button="Create my account",
        message=message,
        status=status,
        headers=headers,
        ask_name=True,
        display_name=display_name,
    )


def _dead_link() -> HtmlPage:
    from auth import pages

    return pages.notice("This link does not work", *_DEAD_LINK, status=400)


def _account_exists() -> HtmlPage:
    from auth import pages

    return pages.notice("You already have an account", *_ACCOUNT_EXISTS, status=409)


def link_page(conn: psycopg.Connection, token: str) -> HtmlPage:
    """GET /oauth/invitation?token=...: the form, while the invitation is open."""
    from auth import queries

    invitation = queries.open_invitation(conn, digest(token), lock=False)
    if invitation is None:
        return _dead_link()
    if invitation["account_exists"]:
        return _account_exists()
    return _form(token)


def accept(conn: psycopg.Connection, issuer: Issuer, form: InvitationForm) -> HtmlPage:
    """POST /oauth/invitation: the account, its password and its attachment, once."""
    from auth import passwords, queries

    invitation = queries.open_invitation(conn, digest(form.token), lock=True)
    if invitation is None:
        return _dead_link()
    if invitation["account_exists"]:
        return _account_exists()
    display_name = form.display_name.strip()
    flags = Permission(invitation["permissions"])
    try:
        if not display_name:
            raise Problem(422, "invalid-body", "Tell us your name.")
        passwords.check_new_password(
            form.password,
            form.password_again,
            privileged=bool(flags & ELEVATED),
            breaches=issuer.breaches,
        )
    except Problem as refusal:
        # Nothing is written: the link still works. Never the password in the page.
        return _form(
            form.token,
            message=refusal.detail,
            status=refusal.status,
            headers=dict(refusal.headers),
            display_name=display_name,
        )
    user_id = queries.insert_invited_user(
        conn, invitation["email"], display_name, passwords.hash_password(form.password)
    )
    if user_id is None:  # an account got the address a moment ago
        return _account_exists()
    queries.accept_invitation(conn, invitation["id"], user_id)
    queries.insert_invited_attachment(
        conn, invitation["venue_id"], user_id, invitation["role"], invitation["permissions"]
    )
    record(
        conn,
        action="staff.invitation_accepted",
        venue_id=invitation["venue_id"],
        actor_user_id=user_id,
        target_type="user",
        target_id=user_id,
        details={
            "invitation_id": str(invitation["id"]),
            "before": None,
            "after": {"role": invitation["role"], "permissions": flags.names()},
        },
    )
    from auth import pages

    return pages.notice(
        "Your account is ready",
        "Go back to the app and sign in with this address and the password you chose.",
    )
