"""Password reset: "forgot your password?" on the sign-in page sends a link that works once,
for ``password_reset_seconds``; the new password meets the policy and the breach check, and
every session of the account ends.

Asking for a link does the same work whether or not an account has the address: the same
statements (one row is written either way), one mail sent (the link, or a note that no
active account uses the address), the same page. Asking is throttled per address and per
source IP; every request and every reset is audited.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping
from urllib.parse import urlencode

import psycopg

from auth import pages, queries
from auth.authorization import pending
from auth.checks import is_privileged
from auth.config import Issuer
from auth.models import NewPasswordForm, ResetRequestForm
from tenancy import HtmlPage, Problem
from tenancy.audit import record
from tenancy.links import digest, new_secret
from tenancy.mail import MailMessage

__all__ = ["change", "link_page", "request_link"]

_SENT = (
    "If an active account uses that address, a link to choose a new password is on its way to it.",
    "The link works once and for a limited time. Once your password is changed, go back to"
    " the app and sign in.",
)
_EXPIRED = (
    "This link has expired, or was already used.",
    "Ask for a new one with \u201cForgot your password?\u201d on the sign-in page.",
)


def _link(issuer: Issuer, token: str) -> str:
    base = issuer.settings.token_issuer.rstrip("/")
    return f"{base}{pages.NEW_PASSWORD}?{urlencode({'token': token})}"


def _message(issuer: Issuer, to: str, token: str, found: bool) -> MailMessage:
    minutes = issuer.settings.password_reset_seconds // 60
    if found:
        text = (
            "Someone, probably you, asked to choose a new password for the Venue Platform"
            f" account of this address.\n\nChoose it here (the link works once, for {minutes}"
            f" minutes):\n\n{_link(issuer, token)}\n\nEvery place the account is signed in"
            " will be signed out. If you did not ask, ignore this message: nothing changes."
        )
    else:
        text = (
            "Someone asked to choose a new password for a Venue Platform account of this"
            " address, but no active account uses it. If that was you, perhaps your account"
            " has another address. If not, ignore this message."
        )
    return MailMessage(to=to, subject="Choose a new password", text=text)


def request_link(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: ResetRequestForm,
    cookies: Mapping[str, str],
    source_ip: str,
) -> HtmlPage:
    """POST /oauth/password-reset, from a sign-in page: the same page either way."""
    pending(conn, issuer, form, cookies, step=None)
    settings = issuer.settings
    email = form.email.strip().lower()
    identifier = digest(email)
    queries.lock_throttle_keys(
        conn, f"reset:identifier:{identifier.hex()}", f"reset:ip:{source_ip}"
    )
    per_identifier, per_ip, oldest = queries.password_resets_in_window(
        conn, identifier, source_ip, settings.signin_window_seconds
    )
    if (
        per_identifier >= settings.password_reset_max_per_identifier
        or per_ip >= settings.password_reset_max_per_ip
    ) and oldest is not None:
        return pages.notice(
            "Too many requests",
            "Too many links were asked for. Wait a while, then ask again.",
            status=429,
            headers={"retry-after": str(_wait(conn, oldest, settings.signin_window_seconds))},
        )
    token = new_secret()
    user_id = queries.insert_password_reset(
        conn,
        token_hash=digest(token),
        email=email,
        identifier_hash=identifier,
        source_ip=source_ip,
        seconds=settings.password_reset_seconds,
    )
    record(
        conn,
        action="auth.password_reset_requested",
        venue_id=None,
        actor_user_id=None,
        target_type="user",
        target_id=user_id,
        details={"account_found": user_id is not None, "source_ip": source_ip},
    )
    issuer.mailer.send(_message(issuer, email, token, found=user_id is not None))
    return pages.notice("Check your email", *_SENT)


def _wait(conn: psycopg.Connection, oldest: dt.datetime, window: int) -> int:
    now = queries.database_now(conn)
    return max(1, math.ceil((oldest + dt.timedelta(seconds=window) - now).total_seconds()))


def _form(
    token: str,
    *,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
) -> HtmlPage:
    return pages.new_password_form(
        pages.NEW_PASSWORD,
        token,
        title="Choose a new password",
        button="Set the new password",
        message=message,
        status=status,
        headers=headers,
    )


def link_page(conn: psycopg.Connection, token: str) -> HtmlPage:
    """GET /oauth/password-reset/confirm?token=...: the form, while the link is good."""
    if queries.open_password_reset(conn, digest(token)) is None:
        return pages.notice("This link does not work", *_EXPIRED, status=400)
    return _form(token)


def change(conn: psycopg.Connection, issuer: Issuer, form: NewPasswordForm) -> HtmlPage:
    """POST /oauth/password-reset/confirm: the new password, once, under the policy; every
    session of the account ends and every other link of it stops working."""
    from auth import passwords

    account = queries.open_password_reset(conn, digest(form.token))
    if account is None:
        return pages.notice("This link does not work", *_EXPIRED, status=400)
    try:
        passwords.check_new_password(
            form.password,
            form.password_again,
            privileged=is_privileged(conn, account["id"], account["is_platform_admin"]),
            breaches=issuer.breaches,
        )
    except Problem as refusal:
        # The rule's own message (never the password); a breach check that cannot be made
        # is a 503 with Retry-After.
        return _form(
            form.token, message=refusal.detail, status=refusal.status, headers=refusal.headers
        )
    queries.set_password_hash(conn, account["id"], passwords.hash_password(form.password))
    queries.spend_password_resets(conn, account["id"])
    revoked = queries.revoke_user_families(conn, account["id"], except_family=None)
    # The mailbox is proven: the failures that locked the account are forgiven.
    queries.clear_failures(conn, "identifier", account["email"])
    record(
        conn,
        action="account.password_reset",
        venue_id=None,
        actor_user_id=account["id"],
        target_type="user",
        target_id=account["id"],
        details={"sessions_revoked": revoked},
    )
    return pages.notice(
        "Your password is changed",
        "Every place your account was signed in has been signed out.",
        "Go back to the app and sign in with the new password.",
    )
