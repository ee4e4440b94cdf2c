"""Grant or revoke the platform-admin flag: an operations command, never a route.

    ADMIN_DATABASE_URL=... python -m infra.platform_admin grant|revoke EMAIL
    make platform-admin ACTION=grant EMAIL=ops@example.com

It runs with the administrative connection (no function role may write the flag), in one
transaction with its critical audit event, which names the operator (``OPERATOR``, else the
login name) since no account acts. The flag counts from the account's next request (the gate
reads it every time); a platform admin needs a second factor to use it, so an account
without a confirmed authenticator is told to enrol one at its next sign-in.
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import uuid
from dataclasses import dataclass

import psycopg

from tenancy.audit import record

ACTIONS = {"grant": True, "revoke": False}


@dataclass(frozen=True)
class Changed:
    user_id: uuid.UUID
    email: str
    was_platform_admin: bool
    is_platform_admin: bool
    has_second_factor: bool


def change(admin_url: str, action: str, email: str, *, operator: str) -> Changed:
    """Set the flag of the account with ``email`` (``action`` is grant or revoke)."""
    wanted = ACTIONS[action]
    with psycopg.connect(admin_url) as conn, conn.transaction():
        row = conn.execute(
            "SELECT u.id, u.email, u.is_platform_admin,"
            "       EXISTS (SELECT 1 FROM user_totp t"
            "               WHERE t.user_id = u.id AND t.confirmed_at IS NOT NULL)"
            " FROM users u WHERE u.email = %s FOR UPDATE",
            (email.strip().lower(),),
        ).fetchone()
        if row is None:
            raise LookupError(f"no account has the email {email!r}")
        user_id, stored_email, was, has_second_factor = row
        conn.execute("UPDATE users SET is_platform_admin = %s WHERE id = %s", (wanted, user_id))
        record(
            conn,
            action="platform.admin_granted" if wanted else "platform.admin_revoked",
            venue_id=None,
            actor_user_id=None,
            target_type="user",
            target_id=user_id,
            details={
                "before": {"is_platform_admin": was},
                "after": {"is_platform_admin": wanted},
                "operator": operator,
                "via": "infra.platform_admin",
            },
            critical=True,
        )
    return Changed(user_id, stored_email, was, wanted, has_second_factor)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("action", choices=sorted(ACTIONS))
    parser.add_argument("email")
    args = parser.parse_args(argv)
    admin_url = os.environ.get("ADMIN_DATABASE_URL")
    if not admin_url:
        parser.error("set ADMIN_DATABASE_URL to the administrative connection")
    operator = os.environ.get("OPERATOR") or getpass.getuser()
    try:
        changed = change(admin_url, args.action, args.email, operator=operator)
    except LookupError as error:
        print(error, file=sys.stderr)
        return 1
    verb = "is now" if changed.is_platform_admin else "is no longer"
    print(
        f"{changed.email} {verb} a platform admin (before: "
        f"{'yes' if changed.was_platform_admin else 'no'}); audited as {operator}"
    )
    if changed.is_platform_admin and not changed.has_second_factor:
        print("they have no authenticator yet: their next sign-in lets them enrol one, no more")
    return 0


if __name__ == "__main__":
    sys.exit(main())
