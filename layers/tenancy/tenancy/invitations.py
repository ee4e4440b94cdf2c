"""Inviting someone to a venue: the one path of the attach route (``staff.logic.attach``,
an email no account has) and of the platform area (a new venue's first owner).

``invite`` writes the invitation (the venue's row, under its row-level security) with a
single-use link's token stored only as its SHA-256 (``tenancy.links``, as for password
resets), its ``staff.invited`` audit event, both in the caller's transaction, and mails the
link through the one mail port (``tenancy.mail``). The caller has applied the rules of
attaching; nothing it returns holds the token. The person completes the invitation on the
issuer's page (``auth.invitations``), the link's target.
"""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import urlencode

import psycopg

from tenancy.audit import record
from tenancy.links import ACCEPT_PATH, digest, new_secret
from tenancy.mail import Mailer, MailMessage
from tenancy.permissions import Permission

__all__ = [
    "ACCEPT_PATH",
    "DEFAULT_SECONDS",
    "Invitations",
    "Invited",
    "delete_open_invitation",
    "invite",
]

#: How long an invitation's link works, unless INVITATION_SECONDS says otherwise.
DEFAULT_SECONDS = 7 * 86400
MAX_SECONDS = 30 * 86400

_INSERT = """
INSERT INTO public.venue_invitations
    (id, venue_id, email, role, permissions, token_hash, invited_by, created_at, expires_at)
VALUES (%(id)s, %(venue)s, %(email)s, %(role)s, %(permissions)s, %(token_hash)s, %(actor)s,
        %(now)s, %(expires_at)s)
"""

# Only an open invitation is ever deleted: cancelled, or replaced by a new one or by an
# attachment of the account the address got since.
_DELETE_OPEN = """
DELETE FROM public.venue_invitations
WHERE venue_id = %(venue)s AND id = %(id)s AND accepted_at IS NULL
"""


class Invitations:
    """How invitations leave: the mail port, and the issuer whose page the link opens. A
    function that invites reaches it as ``request.use(Invitations)`` (built from MAIL_FROM,
    TOKEN_ISSUER and INVITATION_SECONDS on first use); the local stack and the tests give the
    runtime one that mails to their mailbox."""

    def __init__(self, mailer: Mailer, *, issuer_url: str, seconds: int = DEFAULT_SECONDS) -> None:
        if not 0 < seconds <= MAX_SECONDS:
            raise ValueError(f"an invitation lives between 1 and {MAX_SECONDS} seconds")
        self.mailer = mailer
        self.issuer_url = issuer_url.rstrip("/")
        self.seconds = seconds

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> Invitations:
        from tenancy.mail import SesMailer

        env = os.environ if env is None else env
        return cls(
            SesMailer(env.get("MAIL_FROM", "")),
            issuer_url=env["TOKEN_ISSUER"],
            seconds=int(env.get("INVITATION_SECONDS", DEFAULT_SECONDS)),
        )

    def link(self, token: str) -> str:
        return f"{self.issuer_url}{ACCEPT_PATH}?{urlencode({'token': token})}"

    def message(self, token: str, *, to: str, venue_name: str, role: str) -> MailMessage:
        days = max(1, self.seconds // 86400)
        text = (
            f"You are invited to join {venue_name} on the Venue Platform, as {role}.\n\n"
            "Accept here by choosing your password (the link works once, for"
            f" {days} day{'s' if days != 1 else ''}):\n\n{self.link(token)}\n\n"
            "Then sign in to the app with this address and that password. If you were not"
            " expecting this, ignore this message: no account is made."
        )
        return MailMessage(to=to, subject=f"You are invited to {venue_name}", text=text)


@dataclass(frozen=True)
class Invited:
    """An invitation as its inviter may see it: never its token."""

    invitation_id: uuid.UUID
    email: str
    role: str
    permissions: Permission
    created_at: dt.datetime
    expires_at: dt.datetime


def invite(
    conn: psycopg.Connection,
    invitations: Invitations,
    *,
    venue_id: uuid.UUID,
    venue_name: str,
    email: str,
    role: str,
    flags: Permission,
    actor_user_id: uuid.UUID | None,
    now: dt.datetime,
    replaces: uuid.UUID | None = None,
) -> Invited:
    """Invite ``email`` to the venue as ``role`` with ``flags``: the invitation (replacing
    the address's open one there, ``replaces``), its audit event, and its link by mail."""
    token = new_secret()
    invited = Invited(
        invitation_id=uuid.uuid4(),
        email=email,
        role=role,
        permissions=flags,
        created_at=now,
        expires_at=now + dt.timedelta(seconds=invitations.seconds),
    )
    if replaces is not None:
        delete_open_invitation(conn, venue_id, replaces)
    conn.execute(
        _INSERT,
        {
            "id": invited.invitation_id,
            "venue": venue_id,
            "email": email,
            "role": role,
            "permissions": int(flags),
            "token_hash": digest(token),
            "actor": actor_user_id,
            "now": now,
            "expires_at": invited.expires_at,
        },
    )
    record(
        conn,
        action="staff.invited",
        venue_id=venue_id,
        actor_user_id=actor_user_id,
        target_type="invitation",
        target_id=invited.invitation_id,
        details={
            "email": email,
            "before": None,
            "after": {"role": role, "permissions": flags.names()},
            "expires_at": invited.expires_at.isoformat(),
            "replaced_invitation": str(replaces) if replaces else None,
        },
    )
    invitations.mailer.send(invitations.message(token, to=email, venue_name=venue_name, role=role))
    return invited


def delete_open_invitation(
    conn: psycopg.Connection, venue_id: uuid.UUID, invitation_id: uuid.UUID
) -> None:
    """Queued, not awaited: it commits with the caller's audit event."""
    conn.execute(_DELETE_OPEN, {"venue": venue_id, "id": invitation_id})
