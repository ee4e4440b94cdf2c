"""The load campaigns' traffic: a mix of venues, people and tills, each call knowing which
venue its answer may speak of, and the check that finds any row of another venue in it.

The load test sends the mix over HTTP to the local gateway; the pooler test hands it to
simulated function instances whose connections go through PgBouncer."""

from __future__ import annotations

import random
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, LUME, NORD, USER
from tests.support.tills import register_till, till_session

__all__ = ["Call", "Outcome", "Traffic", "percentiles", "traffic"]

#: Who works where (the demo data), for people; every venue is tried by everyone.
VENUES = (CENTRALE, NORD, LUME)
PEOPLE = ("owner", "head_chef", "manager", "regional", "waiter", "casual", "owner_lume")


@dataclass(frozen=True)
class Call:
    method: str
    path: str
    token: str
    #: The venue the answer may speak of (None: a user route, judged by ``venues``).
    venue_id: uuid.UUID | None
    who: str
    #: For /me/venues: exactly the venues the answer must list.
    venues: frozenset[uuid.UUID] = frozenset()

    @property
    def family(self) -> str:
        parts = self.path.split("/")
        if parts[1] == "venues" and len(parts) > 3:
            return f"{self.method} /venues/{{venue_id}}/{parts[3]}" + ("/{id}" * (len(parts) > 4))
        return f"{self.method} {'/venues/{venue_id}' if parts[1] == 'venues' else self.path}"


@dataclass
class Outcome:
    call: Call
    status: int
    body: Any
    seconds: float


@dataclass
class Traffic:
    calls: list[Call]
    #: order id → its venue; staff member id → its venue (from the admin connection).
    order_venue: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)
    staff_venue: dict[uuid.UUID, uuid.UUID] = field(default_factory=dict)

    def foreign_rows(self, outcome: Outcome) -> list[str]:
        """Every row of ``outcome``'s answer that belongs to another venue than its call's
        (or, for /me/venues, any venue the caller is not attached to, or one missing)."""
        call, body = outcome.call, outcome.body
        if outcome.status != 200 or not isinstance(body, dict):
            return []
        if call.venue_id is None:
            listed = {uuid.UUID(v["id"]) for v in body.get("venues", [])}
            return [f"/me/venues listed {sorted(map(str, listed ^ call.venues))}"] * (
                listed != call.venues
            )
        found: list[str] = []
        for order in body.get("orders", []):
            if self.order_venue.get(uuid.UUID(order["id"])) != call.venue_id:
                found.append(f"order {order['id']} in {call.path}")
        for member in body.get("staff", []):
            if self.staff_venue.get(uuid.UUID(member["id"])) != call.venue_id:
                found.append(f"staff member {member['id']} in {call.path}")
        one_order = "number" in body and "items" in body and "id" in body
        if one_order and self.order_venue.get(uuid.UUID(body["id"])) != call.venue_id:
            found.append(f"order {body['id']} at {call.path}")
        if call.path == f"/venues/{call.venue_id}" and body.get("id") != str(call.venue_id):
            found.append(f"venue {body.get('id')} at {call.path}")
        return found


def traffic(api: ApiClient, admin_url: str, count: int, *, seed: int = 7) -> Traffic:
    """``count`` calls: people reading the venues they work at (and, refused, those they do
    not), tills of two venues reading their queue, everyone's /me/venues."""
    rng = random.Random(seed)
    with psycopg.connect(admin_url) as admin:
        orders = admin.execute("SELECT id, venue_id FROM orders").fetchall()
        staff = admin.execute("SELECT id, venue_id FROM staff_members").fetchall()
        attached = admin.execute("SELECT user_id, venue_id FROM venue_attachments").fetchall()
    order_venue = {o: v for o, v in orders}
    some_orders = {v: [o for o, ov in orders if ov == v][:20] for v in VENUES}
    tokens = {who: api.token_for(USER[who].id) for who in PEOPLE}
    venues_of = {who: frozenset(v for u, v in attached if u == USER[who].id) for who in PEOPLE}
    tills = {}
    for venue_id, who in ((CENTRALE, "waiter"), (NORD, "casual")):
        till = register_till(api, venue_id)
        tills[venue_id] = till_session(api, till, who)["access_token"]

    makers: list[Callable[[], Call]] = []

    def person(who: str) -> Call:
        venue_id = rng.choice(VENUES)
        kind = rng.choice(("orders", "order", "staff", "venue"))
        if kind == "order" and some_orders[venue_id]:
            path = f"/venues/{venue_id}/orders/{rng.choice(some_orders[venue_id])}"
        elif kind == "venue":
            path = f"/venues/{venue_id}"
        else:
            path = f"/venues/{venue_id}/{'orders' if kind == 'order' else kind}"
        return Call("GET", path, tokens[who], venue_id, who)

    for who in PEOPLE:
        makers.append(lambda who=who: person(who))  # type: ignore[misc]
        makers.append(
            lambda who=who: Call(  # type: ignore[misc]
                "GET", "/me/venues", tokens[who], None, who, venues_of[who]
            )
        )
    for venue_id, token in tills.items():
        makers.append(
            lambda v=venue_id, t=token: Call(  # type: ignore[misc]
                "GET", f"/venues/{v}/orders", t, v, f"till@{v}"
            )
        )
    calls = [rng.choice(makers)() for _ in range(count)]
    return Traffic(calls, order_venue, {s: v for s, v in staff})


def percentiles(seconds: Sequence[float]) -> dict[str, float]:
    """p50, p90, p99 and max in milliseconds (printed and recorded, never asserted)."""
    ordered = sorted(seconds)

    def at(q: float) -> float:
        return round(1000 * ordered[min(len(ordered) - 1, int(q * len(ordered)))], 1)

    return {"p50": at(0.50), "p90": at(0.90), "p99": at(0.99), "max": at(1.0)}
