"""What belongs to nord alone, read from the database before a campaign: every id and
free-text value of nord's rows that no other venue's row (nor the group's) also holds,
and nord's own prices. An answer to centrale's caller that carries one of them leaks."""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql

from infra.local.seed import CENTRALE, NORD

__all__ = [
    "NordInventory",
    "disclosed",
    "known_ids",
    "nord_inventory",
    "venue_snapshot",
    "venue_tables",
]

#: Columns whose values are words of a fixed vocabulary (a status, a role), not data.
VOCABULARY = {
    "status",
    "role",
    "kind",
    "channel",
    "tip_policy",
    "scope",
    "key_id",
    "timezone",
    "currency",
    "action",
    "target_type",
    "category",
}
#: Shorter strings are too common to mean anything when found in an answer.
SHORTEST = 6


def venue_tables(conn: psycopg.Connection) -> list[str]:
    """Every table whose rows belong to a venue (it has a ``venue_id`` column)."""
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns"
        " WHERE table_schema = 'public' AND column_name = 'venue_id' ORDER BY 1"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _group_tables(conn: psycopg.Connection) -> list[str]:
    rows = conn.execute(
        "SELECT table_name FROM information_schema.columns c WHERE table_schema = 'public'"
        " AND column_name = 'group_id' AND NOT EXISTS (SELECT 1 FROM information_schema.columns"
        " v WHERE v.table_name = c.table_name AND v.column_name = 'venue_id') ORDER BY 1"
    ).fetchall()
    # The venues themselves are read one by one below: nord's row is nord's.
    return [str(r[0]) for r in rows if r[0] != "venues"]


def _rows(conn: psycopg.Connection, table: str, where: sql.Composable) -> list[dict[str, Any]]:
    query = sql.SQL("SELECT to_jsonb(t) FROM {} t WHERE ").format(sql.Identifier(table)) + where
    return [r[0] for r in conn.execute(query).fetchall()]


def _values(rows: list[dict[str, Any]], ids: set[str], texts: set[str]) -> None:
    for row in rows:
        for column, value in row.items():
            if column == "venue_id" or column in VOCABULARY or not isinstance(value, str):
                continue
            try:
                ids.add(str(uuid.UUID(value)))
            except ValueError:
                if len(value) >= SHORTEST and not re.fullmatch(r"[\d\-:T.+ ]+", value):
                    texts.add(value)


@dataclass
class NordInventory:
    ids: set[str]
    texts: set[str]
    #: item id -> nord's price, where it differs from every other venue's price of it.
    prices: dict[str, int]
    _pattern: re.Pattern[str] | None = field(default=None, repr=False)

    @property
    def markers(self) -> set[str]:
        return self.ids | self.texts

    def found_in(self, answer: str, sent: str, allowed: frozenset[str] = frozenset()) -> list[str]:
        """The nord markers in ``answer`` that the request itself did not carry (an echo of
        the caller's own input is not a leak) and the route may not show (``allowed``)."""
        if self._pattern is None:
            ordered = sorted(self.markers, key=len, reverse=True)
            self._pattern = re.compile("|".join(re.escape(m) for m in ordered))
        found = {m.group(0) for m in self._pattern.finditer(answer)}
        found = {m for m in found if m not in sent and m not in allowed}
        return sorted(found) + self._prices_in(answer)

    def _prices_in(self, answer: str) -> list[str]:
        try:
            document = json.loads(answer)
        except ValueError:
            return []
        found: list[str] = []

        def walk(value: Any) -> None:
            if isinstance(value, dict):
                item = str(value.get("item_id") or value.get("id") or "")
                if item in self.prices and self.prices[item] in [
                    v for k, v in value.items() if "price" in k
                ]:
                    found.append(f"nord's price {self.prices[item]} of item {item}")
                for v in value.values():
                    walk(v)
            elif isinstance(value, list):
                for v in value:
                    walk(v)

        walk(document)
        return found


def nord_inventory(admin_url: str) -> NordInventory:
    nord_ids: set[str] = {str(NORD)}
    nord_texts: set[str] = set()
    other_ids: set[str] = set()
    other_texts: set[str] = set()
    with psycopg.connect(admin_url) as conn:
        nord = sql.SQL("venue_id = {}").format(sql.Literal(str(NORD)))
        not_nord = sql.SQL("venue_id IS DISTINCT FROM {}").format(sql.Literal(str(NORD)))
        for table in venue_tables(conn):
            _values(_rows(conn, table, nord), nord_ids, nord_texts)
            _values(_rows(conn, table, not_nord), other_ids, other_texts)
        for table in _group_tables(conn):
            _values(_rows(conn, table, sql.SQL("true")), other_ids, other_texts)
        this = sql.SQL("id = {}").format(sql.Literal(str(NORD)))
        others = sql.SQL("id <> {}").format(sql.Literal(str(NORD)))
        _values(_rows(conn, "venues", this), nord_ids, nord_texts)
        _values(_rows(conn, "venues", others), other_ids, other_texts)
        # People attached to nord alone: their account is nord's too.
        only_nord = sql.SQL(
            "id IN (SELECT user_id FROM venue_attachments GROUP BY user_id"
            " HAVING bool_and(venue_id = {}))"
        ).format(sql.Literal(str(NORD)))
        _values(_rows(conn, "users", only_nord), nord_ids, nord_texts)
        prices = conn.execute(
            "SELECT n.item_id::text, n.price_cents FROM menu_item_prices n WHERE n.venue_id = %s"
            " AND NOT EXISTS (SELECT 1 FROM menu_item_prices o WHERE o.item_id = n.item_id"
            " AND o.venue_id <> n.venue_id AND o.price_cents = n.price_cents)",
            (NORD,),
        ).fetchall()
    ids = nord_ids - other_ids
    return NordInventory(ids, nord_texts - other_texts - ids, {str(i): int(p) for i, p in prices})


def venue_snapshot(admin_url: str, venue_id: uuid.UUID) -> dict[str, str]:
    """A digest of each venue table's rows at ``venue_id`` (every column), by table."""
    digests: dict[str, str] = {}
    with psycopg.connect(admin_url) as conn:
        for table in venue_tables(conn):
            where = sql.SQL("venue_id = {}").format(sql.Literal(str(venue_id)))
            rows = [json.dumps(r, sort_keys=True) for r in _rows(conn, table, where)]
            digests[table] = hashlib.sha256("\n".join(sorted(rows)).encode()).hexdigest()
    return digests


def known_ids(admin_url: str) -> list[str]:
    """Every id of every venue's and group's rows (nord's among them), for the fuzz to put
    wherever an id goes."""
    found: set[str] = set()
    with psycopg.connect(admin_url) as conn:
        for table in venue_tables(conn) + _group_tables(conn) + ["venues"]:
            _values(_rows(conn, table, sql.SQL("true")), found, set())
    return sorted(found)


#: Routes that show centrale something of nord's by design.
HISTORY = "GET /venues/{venue_id}/customers/{customer_id}/history"


def disclosed(admin_url: str, route_key: str) -> set[str]:
    """What ``route_key`` may show centrale of nord's, as the data stands now: the consented
    group history (a diner's consent recorded at centrale opens their visits at nord, with
    nord's id and name, to centrale's history route; docs/decisions.md)."""
    if route_key != HISTORY:
        return set()
    with psycopg.connect(admin_url) as conn:
        visits = conn.execute(
            "SELECT v.id::text FROM diner_visits v WHERE v.venue_id = %s AND EXISTS (SELECT 1"
            " FROM diner_consents c WHERE c.venue_id = %s AND c.identity = v.identity"
            " AND c.withdrawn_at IS NULL)",
            (NORD, CENTRALE),
        ).fetchall()
        name = conn.execute("SELECT name FROM venues WHERE id = %s", (NORD,)).fetchone()
    if not visits or name is None:
        return set()
    return {str(r[0]) for r in visits} | {str(NORD), str(name[0])}
