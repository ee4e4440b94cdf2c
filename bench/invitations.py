"""What accepting an invitation costs beside the argon2id hash it must compute:
``python -m bench.invitations``.

Accepting is what the invited person's browser does: the link's page (GET /oauth/invitation)
and its form posted (POST /oauth/invitation: the password policy, the breach check against
the local corpus, argon2id, then the account, the invitation consumed, the attachment and
the venue's audit event, in one transaction). Every request goes through the local gateway
and the real handlers against a fresh, migrated, seeded database, one issuer connection.

The figure is the ratio of the whole to one argon2id hash of the same password, timed side
by side (A B A B ...); the invitations are written beforehand, untimed. It reports and never
fails.
"""

from __future__ import annotations

import hashlib
import os
import platform
import sys
import time
import uuid
import warnings
from collections.abc import Iterator

from bench.sign_in_pages import _gateway
from bench.timing import Samples, interleaved

__all__ = ["main", "measure"]

WARMUP = 10
ROUNDS = 100
PASSWORD = "An-invited-password-2026"  # noqa: S105 - a benchmark's own


def _invitations(admin_url: str, count: int) -> Iterator[str]:
    """``count`` open invitations at nord, as the attach route writes them; their tokens."""
    import psycopg

    from infra.local.seed import NORD

    tokens = [uuid.uuid4().hex + uuid.uuid4().hex for _ in range(count)]
    with psycopg.connect(admin_url) as admin:
        for token in tokens:
            admin.execute(
                "INSERT INTO venue_invitations (id, venue_id, email, role, permissions,"
                " token_hash, expires_at) VALUES (%s, %s, %s, 'waiter', 3, %s,"
                " now() + interval '1 day')",
                (
                    uuid.uuid4(),
                    NORD,
                    f"bench-{token[:16]}@invited.example",
                    hashlib.sha256(token.encode()).digest(),
                ),
            )
    return iter(tokens)


def measure(
    issuer_url: str, admin_url: str, binding_key: str, rounds: int = ROUNDS
) -> tuple[Samples, Samples]:
    from auth import passwords
    from infra.local.signin import Browser

    tokens = _invitations(admin_url, rounds + WARMUP)
    with _gateway(issuer_url, binding_key) as transport:

        def accept() -> object:
            browser = Browser(transport)
            page = browser.get(f"/oauth/invitation?token={next(tokens)}")
            answer = browser.submit(
                page, {"display_name": "Bench", "password": PASSWORD, "password_again": PASSWORD}
            )
            assert answer.status == 200, answer.text
            return answer

        def argon2() -> object:
            return passwords.hash_password(PASSWORD)

        whole, alone = interleaved(
            [("accept", accept), ("argon2", argon2)], warmup=WARMUP, iterations=rounds
        )
    return whole, alone


def main() -> None:
    from bench.stack import bench_database, quiet_request_logs

    warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR")
    started = time.perf_counter()
    with open(os.devnull, "w") as null:
        quiet_request_logs(null)
        print("starting Postgres, migrating and seeding a fresh database", file=sys.stderr)
        with bench_database() as db:
            print(
                f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {os.cpu_count()} cores,"
                f" {platform.system()}, CPython {platform.python_version()},"
                f" Postgres {db.server_version} ({db.origin})\n"
            )
            whole, alone = measure(
                db.database.issuer_url, db.database.admin_url, db.database.binding_key
            )
    print("Accepting an invitation: the link's page GET and its form POST")
    print(f"   {len(whole.seconds)} interleaved pairs after {WARMUP} warm-up pairs")
    print(f"   {'':<44} {'median':>10} {'p90':>10}")
    for label, samples in (("A  the page and the form", whole), ("B  argon2id hash alone", alone)):
        print(f"   {label:<44} {samples.median * 1000:7.2f} ms {samples.p90 * 1000:7.2f} ms")
    print(f"   ratio A / B   {whole.median / alone.median:.2f}")
    print(f"\n(run took {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
