"""`make payments-events [STATUS=failed]` and `make payments-replay EVENT=evt_...`: Stripe's
stored webhook events, for operations.

``list`` shows the stored events by status (``received``: stored, not yet applied;
``failed``: the processor gave up for now, with why; ``processed``; ``ignored``: a type the
processor does not apply). ``replay`` applies one stored event again, exactly as the
processor does (Stripe's object is read again, so a replay applies Stripe's state now), and
records who replayed it as a platform-level audit event first.

Where it looks: PAYMENTS_DATABASE_URL (the app_payments role), BINDING_KEY,
STRIPE_SECRET_KEY (and STRIPE_API_BASE); when unset, what the running `make dev` wrote.
"""

from __future__ import annotations

import argparse
import getpass
import json
import os
import sys
from typing import Any

import psycopg

from infra.local.state import state_dir
from tenancy.audit import record
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.payments import StripeApi
from webhooks.processor import MissingEvent, Processor, list_events, process

__all__ = ["STATE_FILE", "main", "replay"]

#: Written by `make dev` in its state folder.
STATE_FILE = "payments.json"
STATUSES = ("received", "processed", "ignored", "failed")


def _settings(env: dict[str, str]) -> dict[str, str]:
    if env.get("PAYMENTS_DATABASE_URL"):
        return {
            "database_url": env["PAYMENTS_DATABASE_URL"],
            "binding_key": env.get("BINDING_KEY", ""),
            "stripe_secret_key": env.get("STRIPE_SECRET_KEY", ""),
            "stripe_api_base": env.get("STRIPE_API_BASE", ""),
        }
    state = state_dir() / STATE_FILE
    if not state.exists():
        raise SystemExit(
            "set PAYMENTS_DATABASE_URL, BINDING_KEY and STRIPE_SECRET_KEY, or start `make dev`"
        )
    loaded: dict[str, str] = json.loads(state.read_text())
    return loaded


def processor_from(settings: dict[str, str]) -> Processor:
    return Processor(
        database=PooledConnections(settings["database_url"], max_size=2),
        binding_key=BindingKey.from_setting(settings["binding_key"]),
        stripe=StripeApi(
            secret_key=settings["stripe_secret_key"], api_base=settings.get("stripe_api_base", "")
        ),
    )


def replay(processor: Processor, database_url: str, event_id: str, operator: str) -> str:
    """Record the replay (a platform-level audit event), then apply the event again."""
    with psycopg.connect(database_url) as conn:
        found = conn.execute(
            "SELECT type, account, status FROM stripe_events WHERE id = %s", (event_id,)
        ).fetchone()
        if found is None:
            raise MissingEvent(f"no stored Stripe event {event_id}")
        record(
            conn,
            action="payments.event_replayed",
            venue_id=None,
            actor_user_id=None,
            target_type="stripe_event",
            target_id=event_id,
            details={
                "type": found[0],
                "account": found[1],
                "status_before": found[2],
                "operator": operator,
            },
        )
    return process(processor, event_id, replay=True)


def _show(rows: list[dict[str, Any]]) -> None:
    for row in rows:
        print(
            f"{row['id']:<32} {row['type']:<34} {row['status']:<9} attempts={row['attempts']}"
            f" received={row['received_at']:%Y-%m-%d %H:%M:%S}"
            f" account={row['account'] or '-'}"
            + (f" error={row['last_error']}" if row["last_error"] else "")
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    listing = commands.add_parser("list", help="stored events, newest first")
    listing.add_argument("--status", choices=STATUSES)
    listing.add_argument("--limit", type=int, default=50)
    again = commands.add_parser("replay", help="apply one stored event again (audited)")
    again.add_argument("event_id")
    again.add_argument("--operator", default=os.environ.get("OPERATOR") or getpass.getuser())
    args = parser.parse_args(argv)
    settings = _settings(dict(os.environ))
    processor = processor_from(settings)
    if args.command == "list":
        _show(list_events(processor, args.status, args.limit))
        return 0
    try:
        outcome = replay(processor, settings["database_url"], args.event_id, args.operator)
    except MissingEvent as error:
        print(error, file=sys.stderr)
        return 1
    print(f"{args.event_id}: {outcome}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
