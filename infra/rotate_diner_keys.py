"""Re-seal every diner's dietary record under the active app key: `make rotate-diner-keys`.

A key rotation: put the new key first in the app keys (``id:base64,...``; the old ones stay
listed so they still open), deploy, then run this with the same keys and an administrative
connection. Each record is opened with its own key (its id is in the sealed text) and its
own row and venue as associated data, sealed again under the active key, and written back;
records already under it are left alone. It runs in batches, each its own transaction, so
it can be stopped and run again. Once it reports nothing left under other keys, the old key
can leave the list.

    ADMIN_DATABASE_URL=postgresql://... APP_KEYS=k2:...,k1:... python -m infra.rotate_diner_keys

In AWS the keys come from the secret named by APP_KEYS_SECRET_ARN. A record that does not
open (tampered, or copied from another row) is counted and named by id, never shown, and
stays as it is.
"""

from __future__ import annotations

import argparse
import os
import sys
import uuid
from dataclasses import dataclass, field

import psycopg

from customers.config import DinerKeys, DinerSettings
from customers.logic import associated_data
from tenancy.sealing import SealedBox, SealingError

__all__ = ["Rotation", "rotate"]

# Records not under the active key, oldest id first; locked so a concurrent change waits.
_BATCH = """
SELECT id, venue_id, sensitive_sealed FROM diners
WHERE sensitive_sealed IS NOT NULL AND split_part(sensitive_sealed, '.', 2) <> %(active)s
  AND id > %(after)s
ORDER BY id LIMIT %(size)s
FOR UPDATE
"""
_WRITE = "UPDATE diners SET sensitive_sealed = %(sealed)s WHERE id = %(id)s"


@dataclass
class Rotation:
    resealed: int = 0
    unreadable: list[uuid.UUID] = field(default_factory=list)


def rotate(conn: psycopg.Connection, box: SealedBox, *, batch_size: int = 500) -> Rotation:
    """Re-seal, on ``conn`` (an administrative connection: every venue's rows), every record
    not under ``box``'s active key. Commits per batch unless ``conn`` is inside a
    transaction block of the caller's."""
    outcome = Rotation()
    after = uuid.UUID(int=0)
    while True:
        with conn.transaction():
            rows = conn.execute(
                _BATCH, {"active": box.active_key_id, "after": after, "size": batch_size}
            ).fetchall()
            for diner_id, venue_id, sealed in rows:
                try:
                    resealed = box.reseal(
                        sealed, associated_data=associated_data(diner_id, venue_id)
                    )
                except SealingError:
                    outcome.unreadable.append(diner_id)
                    continue
                conn.execute(_WRITE, {"sealed": resealed, "id": diner_id})
                outcome.resealed += 1
        if len(rows) < batch_size:
            return outcome
        after = rows[-1][0]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("database_url", nargs="?", default=os.environ.get("ADMIN_DATABASE_URL", ""))
    parser.add_argument("--batch-size", type=int, default=500)
    args = parser.parse_args(argv)
    if not args.database_url:
        parser.error("give the administrative connection (or set ADMIN_DATABASE_URL)")
    box = DinerKeys(DinerSettings.from_env()).box
    with psycopg.connect(args.database_url, autocommit=True) as conn:
        outcome = rotate(conn, box, batch_size=args.batch_size)
    print(f"re-sealed {outcome.resealed} dietary record(s) under key {box.active_key_id!r}")
    if outcome.unreadable:
        print(
            f"{len(outcome.unreadable)} record(s) do not open and were left as they are: "
            + ", ".join(str(d) for d in outcome.unreadable),
            file=sys.stderr,
        )
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
