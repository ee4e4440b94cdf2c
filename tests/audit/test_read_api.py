"""The trail's read API: GET /venues/{venue_id}/audit (VIEW_AUDIT) and GET /platform/audit
(platform admins with a second factor, each read itself a critical audit event)."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from dataclasses import dataclass
from typing import Any

import psycopg
import pytest

from infra.local.audit import drain
from infra.local.client import ApiClient
from infra.local.seed import USER
from tenancy.permissions import Role
from tests.audit.conftest import Handler
from tests.support.audit import AuditAws, alerts_received, logged_rows
from tests.support.demo_users import attach, new_user
from tests.support.second_factor import new_venue

ADMIN = USER["platform_admin"].id
DAYS = [dt.datetime(2026, 3, day, 12, tzinfo=dt.UTC) for day in (1, 2, 3)]


@dataclass(frozen=True)
class Trail:
    venue: uuid.UUID
    manager: uuid.UUID
    head_chef: uuid.UUID
    #: (event id, actor, action, day) of each event, oldest first
    events: list[tuple[uuid.UUID, uuid.UUID, str, dt.date]]


@pytest.fixture
def trail(audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler) -> Trail:
    """A venue of its own with a manager (VIEW_AUDIT) and a head chef (without), and 12
    events consumed into its chain: two actors, two actions, three days."""
    venue = new_venue(audit_admin)
    manager, head_chef = new_user(audit_admin, "Manager"), new_user(audit_admin, "Head chef")
    attach(audit_admin, manager, venue, Role.MANAGER)
    attach(audit_admin, head_chef, venue, Role.HEAD_CHEF)
    events = []
    for index in range(12):
        actor = (manager, head_chef)[index % 2]
        action = ("menu.price_changed", "staff.attached")[index % 3 == 0]
        occurred = DAYS[index // 4]
        event_id = uuid.uuid4()
        audit_admin.execute(
            "INSERT INTO audit_outbox (id, venue_id, actor_user_id, action, target_type,"
            " details, occurred_at) VALUES (%s, %s, %s, %s, 'thing', %s, %s)",
            (event_id, venue, actor, action, json.dumps({"n": index}), occurred),
        )
        aws.sqs.send_message(
            QueueUrl=aws.queue_url,
            MessageBody=json.dumps({"v": 1, "event_id": str(event_id), "venue_id": str(venue)}),
            MessageGroupId=str(venue),
            MessageDeduplicationId=str(event_id),
        )
        events.append((event_id, actor, action, occurred.date()))
    drain(aws.sqs, aws.queue_url, consumer)
    assert len(logged_rows(audit_admin, venue)) == 12
    return Trail(venue, manager, head_chef, events)


def read_all(api: ApiClient, path: str, user: uuid.UUID, **query: str) -> list[dict[str, Any]]:
    """Every entry, page by page, following next_cursor (a bound: at most 50 pages)."""
    entries: list[dict[str, Any]] = []
    cursor: str | None = None
    for _ in range(50):
        page_query = {**query, "cursor": cursor} if cursor else query
        response = api.get(path, as_user=user, query=page_query)
        assert response.status == 200, response.text
        page = response.json()
        entries += page["entries"]
        cursor = page["next_cursor"]
        if cursor is None:
            return entries
    raise AssertionError("more than 50 pages")


def test_a_venue_reads_its_trail_newest_first_page_by_page(
    audit_api: ApiClient, audit_admin: psycopg.Connection, trail: Trail
) -> None:
    """Given a chain of 12, when the manager reads it five at a time, then the pages give
    every row once, newest first, each with its event and chain links as stored."""
    path = f"/venues/{trail.venue}/audit"

    first = audit_api.get(path, as_user=trail.manager, query={"limit": "5"})
    entries = read_all(audit_api, path, trail.manager, limit="5")

    assert [e["seq"] for e in first.json()["entries"]] == [12, 11, 10, 9, 8]
    assert first.json()["next_cursor"]
    assert [e["seq"] for e in entries] == list(range(12, 0, -1))
    rows = {row.seq: row for row in logged_rows(audit_admin, trail.venue)}
    for entry in entries:
        row = rows[entry["seq"]]
        assert entry["event"] == row.event
        assert (entry["hash"], entry["prev_hash"]) == (row.hash.hex(), row.prev_hash.hex())
        assert entry["event_id"] == str(row.event_id)


@pytest.mark.parametrize(
    ("filters", "kept"),
    [
        ({"actor": "manager"}, lambda actor, action, day, t: actor == t.manager),
        ({"action": "staff.attached"}, lambda actor, action, day, t: action == "staff.attached"),
        ({"since": "2026-03-02"}, lambda actor, action, day, t: day >= dt.date(2026, 3, 2)),
        ({"until": "2026-03-01"}, lambda actor, action, day, t: day <= dt.date(2026, 3, 1)),
        (
            {
                "actor": "head_chef",
                "action": "menu.price_changed",
                "since": "2026-03-02",
                "until": "2026-03-02",
            },
            lambda actor, action, day, t: (
                actor == t.head_chef
                and action == "menu.price_changed"
                and day == dt.date(2026, 3, 2)
            ),
        ),
    ],
    ids=["actor", "action", "since", "until", "all four"],
)
def test_filters_keep_exactly_the_matching_events(
    audit_api: ApiClient, trail: Trail, filters: dict[str, str], kept: Any
) -> None:
    """Given a chain of 12, when it is read with a filter (by actor, action, first or last
    day), then exactly the matching events come back, across pages."""
    people = {"manager": trail.manager, "head_chef": trail.head_chef}
    query = {k: str(people.get(v, v)) for k, v in filters.items()}

    entries = read_all(audit_api, f"/venues/{trail.venue}/audit", trail.manager, limit="3", **query)

    expected = {str(e) for e, actor, action, day in trail.events if kept(actor, action, day, trail)}
    assert {entry["event_id"] for entry in entries} == expected
    assert len(entries) == len(expected)


def test_reading_a_trail_needs_view_audit(audit_api: ApiClient, trail: Trail) -> None:
    """Given the venue's head chef (no VIEW_AUDIT), when they read its trail, then the answer
    is 403 permission-denied naming the flag."""
    response = audit_api.get(f"/venues/{trail.venue}/audit", as_user=trail.head_chef)

    assert response.status == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "permission-denied"
    assert response.json()["missing_permissions"] == ["VIEW_AUDIT"]


@pytest.mark.parametrize(
    ("path", "query"),
    [
        ("venue", {"cursor": "not-a-cursor"}),
        ("venue", {"cursor": "eyJhdCI6IjIwMjYifQ"}),  # {"at":"2026"}: another route's shape
        ("venue", {"since": "2026-03-02", "until": "2026-03-01"}),
        ("venue", {"action": "DROP TABLE"}),
        ("platform", {"cursor": "eyJzZXEiOjV9"}),  # {"seq":5}: the venue route's shape
        ("platform", {"venue": "everywhere"}),
    ],
)
def test_a_query_that_is_not_valid_is_a_400(
    audit_api: ApiClient, trail: Trail, path: str, query: dict[str, str]
) -> None:
    """Given a cursor this API did not give, days out of order, an action that is not one,
    or a venue that is neither an id nor 'platform', then the answer is 400 invalid-query."""
    target, user = (
        (f"/venues/{trail.venue}/audit", trail.manager)
        if path == "venue"
        else ("/platform/audit", ADMIN)
    )

    response = audit_api.get(target, as_user=user, query=query)

    assert response.status == 400, response.text
    assert response.json()["code"] == "invalid-query"


@pytest.mark.parametrize("who", ["regional", "manager of the venue"])
def test_the_platform_trail_refuses_anyone_but_platform_admins(
    audit_api: ApiClient, audit_admin: psycopg.Connection, trail: Trail, who: str
) -> None:
    """Given a regional manager or a venue's manager, when they read /platform/audit, then
    the answer is 403 platform-admin-only and no audit read is recorded (only the refusal)."""
    user = USER["regional"].id if who == "regional" else trail.manager
    before = audit_admin.execute(
        "SELECT count(*) FROM audit_outbox WHERE action = 'platform_admin.audit_read'"
    ).fetchone()

    response = audit_api.get("/platform/audit", as_user=user)

    assert response.status == 403
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "platform-admin-only"
    assert (
        audit_admin.execute(
            "SELECT count(*) FROM audit_outbox WHERE action = 'platform_admin.audit_read'"
        ).fetchone()
        == before
    )


def test_a_platform_admin_without_a_second_factor_is_refused(
    audit_api: ApiClient, trail: Trail
) -> None:
    """Given the platform admin with a token of a password-only session, when they read
    /platform/audit, then the answer is 403 mfa-required."""
    token = audit_api.fresh_token(ADMIN, amr=["pwd"])

    response = audit_api.get("/platform/audit", token=token)

    assert response.status == 403
    assert response.json()["code"] == "mfa-required"


def test_a_platform_admin_reads_every_trail_and_the_read_is_audited_as_critical(
    audit_api: ApiClient,
    audit_admin: psycopg.Connection,
    aws: AuditAws,
    consumer: Handler,
    trail: Trail,
) -> None:
    """Given a venue's chain of 12 and other venues' rows, when the platform admin reads the
    venue's trail through /platform/audit (four at a time) and then every trail, then they
    get the venue's 12 rows once each, and rows of more than one chain; each read wrote a
    critical platform_admin.audit_read event naming them, which the pipeline appends to
    the platform's chain and alerts on."""
    entries = read_all(audit_api, "/platform/audit", ADMIN, venue=str(trail.venue), limit="4")
    everything = audit_api.get("/platform/audit", as_user=ADMIN, query={"limit": "200"})

    assert sorted(e["seq"] for e in entries) == list(range(1, 13))
    assert {e["venue_id"] for e in entries} == {str(trail.venue)}
    assert everything.status == 200, everything.text
    assert len({e["venue_id"] for e in everything.json()["entries"]}) > 1
    reads = audit_admin.execute(
        "SELECT id, actor_user_id, critical, target_id, details FROM audit_outbox"
        " WHERE action = 'platform_admin.audit_read' AND venue_id IS NULL"
        " AND occurred_at > now() - interval '1 minute'"
    ).fetchall()
    assert len(reads) == 4  # three pages and the read of everything
    assert {(actor, critical) for _, actor, critical, _, _ in reads} == {(ADMIN, True)}
    assert {"venue": str(trail.venue), "limit": 4} in [d["filters"] for *_, d in reads]

    drain(aws.sqs, aws.queue_url, consumer)
    logged = {row.event_id for row in logged_rows(audit_admin, None)}
    assert {event_id for event_id, *_ in reads} <= logged
    alerts = [a for a in alerts_received(aws) if a["action"] == "platform_admin.audit_read"]
    assert 1 <= len(alerts) <= 4
