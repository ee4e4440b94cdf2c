"""Granting and revoking the platform-admin flag is an operations command
(`python -m infra.platform_admin`, `make platform-admin`), never a route, and is audited."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import psycopg

from infra.local import postgres
from infra.local.client import ApiClient
from tests.conftest import ROOT
from tests.support.demo_users import new_user
from tests.support.people import audit_events, email_of


def run(database: postgres.Database, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "ADMIN_DATABASE_URL": database.admin_url,
        "OPERATOR": "ops-on-call",
        "PYTHONPATH": os.pathsep.join(str(ROOT / p) for p in (".", "functions", "layers/tenancy")),
    }
    return subprocess.run(
        [sys.executable, "-m", "infra.platform_admin", *args],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        check=False,
    )


def test_granting_and_revoking_count_from_the_next_request_and_are_audited(
    api: ApiClient, admin_db: psycopg.Connection, database: postgres.Database
) -> None:
    """Given an account signed in with a second factor, when operations grant it the flag,
    then its next request reaches the platform area; when they revoke it, the next one is
    refused; both are critical audit events naming the operator."""
    person = new_user(admin_db, "Ops newcomer")
    email = email_of(admin_db, person)
    token = api.fresh_token(person, amr=["pwd", "otp"])

    granted = run(database, "grant", email.upper())
    inside = api.get("/platform/venues", token=token)
    revoked = run(database, "revoke", email)
    outside = api.get("/platform/venues", token=token)

    assert granted.returncode == 0, granted.stderr
    assert "is now a platform admin" in granted.stdout
    assert "enrol" in granted.stdout  # no authenticator yet
    assert inside.status == 200, inside.text
    assert revoked.returncode == 0, revoked.stderr
    assert (outside.status, outside.json()["code"]) == (403, "platform-admin-only")
    events = audit_events(admin_db, target_id=str(person), actor_user_id=None)
    assert sorted(
        (e["action"], e["details"]["after"]["is_platform_admin"], e["details"]["operator"])
        for e in events
    ) == [
        ("platform.admin_granted", True, "ops-on-call"),
        ("platform.admin_revoked", False, "ops-on-call"),
    ]
    assert all(e["critical"] and e["venue_id"] is None for e in events)


def test_an_unknown_email_changes_nothing(
    admin_db: psycopg.Connection, database: postgres.Database
) -> None:
    before = admin_db.execute("SELECT count(*) FROM audit_outbox").fetchone()

    result = run(database, "grant", "nobody-at-all@nowhere.example")

    assert result.returncode == 1
    assert "no account" in result.stderr
    assert admin_db.execute("SELECT count(*) FROM audit_outbox").fetchone() == before


def test_make_platform_admin_runs_the_command() -> None:
    """`make platform-admin ACTION=... EMAIL=...` is that command (shown, not run)."""
    make = shutil.which("make")
    assert make is not None
    shown = subprocess.run(
        [make, "-n", "platform-admin", "ACTION=grant", "EMAIL=ops@example.com"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )

    assert "python -m infra.platform_admin grant ops@example.com" in shown.stdout
