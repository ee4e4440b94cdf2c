"""The relay: a request's audit events reach the audit queue only after its transaction has
committed, and a failed send never fails the request (docs/architecture.md, "The audit
pipeline")."""

from __future__ import annotations

import dataclasses
import json
import uuid
from collections.abc import Sequence
from typing import Any

import psycopg
import pytest

from auth.config import Issuer
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, USER, menu_item_id
from tenancy.audit import OutboxEvent, UnreadableMessage, parse_message
from tenancy.relay import SqsRelay
from tenancy.runtime import Runtime
from tests.conftest import make_api, trusted_keys
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import authorize

TIRAMISU = menu_item_id("Tiramisù")
REGION = "eu-south-1"


class Recorder:
    """A relay that notes what it is given and whether each event was already committed
    (visible to another connection) when it was given."""

    def __init__(self, admin_url: str, *, fail: bool = False) -> None:
        self.admin_url = admin_url
        self.fail = fail
        self.relayed: list[tuple[OutboxEvent, bool]] = []

    def __call__(self, events: Sequence[OutboxEvent]) -> None:
        with psycopg.connect(self.admin_url) as conn:
            for event in events:
                row = conn.execute(
                    "SELECT 1 FROM audit_outbox WHERE id = %s", (event.id,)
                ).fetchone()
                self.relayed.append((event, row is not None))
        if self.fail:
            raise ConnectionError("the audit queue cannot be reached")


@pytest.fixture
def recorder(database: postgres.Database) -> Recorder:
    return Recorder(database.admin_url)


@pytest.fixture
def relaying_api(
    runtime: Runtime, recorder: Recorder, signing_key: SigningKey, issuer: Issuer
) -> ApiClient:
    """The session's gateway and connections, with ``recorder`` as the runtime's relay."""
    relaying = dataclasses.replace(runtime, relay=recorder)
    return make_api(relaying, trusted_keys(signing_key, issuer), signing_key, recorder.admin_url)


def price(admin_db: psycopg.Connection) -> int:
    row = admin_db.execute(
        "SELECT price_cents FROM menu_item_prices WHERE venue_id = %s AND item_id = %s",
        (CENTRALE, TIRAMISU),
    ).fetchone()
    assert row is not None
    return int(row[0])


def test_a_committed_change_relays_its_event_after_commit(
    relaying_api: ApiClient, recorder: Recorder, admin_db: psycopg.Connection
) -> None:
    """Given a relay, when the head chef changes a price, then the relay is given exactly
    the change's audit event, with its venue, and the event was committed by then."""
    response = relaying_api.patch(
        f"/venues/{CENTRALE}/menu/items/{TIRAMISU}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": price(admin_db) + 1},
    )

    assert response.status == 200, response.text
    ((event, committed),) = recorder.relayed
    stored = admin_db.execute(
        "SELECT venue_id, action FROM audit_outbox WHERE id = %s", (event.id,)
    ).fetchone()
    assert stored == (CENTRALE, "menu.price_changed")
    assert event.venue_id == CENTRALE
    assert committed


def test_a_refused_or_failed_request_relays_nothing(
    relaying_api: ApiClient, recorder: Recorder, admin_db: psycopg.Connection
) -> None:
    """Given a relay, when a price change is refused (waiter, no EDIT_PRICES) or finds no
    item (404), then nothing is relayed."""
    waiter = relaying_api.patch(
        f"/venues/{CENTRALE}/menu/items/{TIRAMISU}",
        as_user=USER["waiter"].id,
        json_body={"price_cents": 1},
    )
    missing = relaying_api.patch(
        f"/venues/{CENTRALE}/menu/items/{uuid.uuid4()}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": 1},
    )

    assert (waiter.status, missing.status) == (403, 404)
    assert recorder.relayed == []


def test_a_platform_admins_venue_access_relays_the_override_event(
    relaying_api: ApiClient, recorder: Recorder, admin_db: psycopg.Connection
) -> None:
    """Given a relay, when the platform admin reads a venue's orders (the audited
    override), then the gate's own critical event is relayed, and only when it applies."""
    admin = relaying_api.get(f"/venues/{CENTRALE}/orders", as_user=USER["platform_admin"].id)
    attached = relaying_api.get(f"/venues/{CENTRALE}/orders", as_user=USER["regional"].id)

    assert (admin.status, attached.status) == (200, 200)
    ((event, committed),) = recorder.relayed
    stored = admin_db.execute(
        "SELECT venue_id, actor_user_id, action, critical FROM audit_outbox WHERE id = %s",
        (event.id,),
    ).fetchone()
    assert stored == (CENTRALE, USER["platform_admin"].id, "platform_admin.venue_access", True)
    assert committed


def test_a_public_route_relays_the_refusal_it_commits(
    relaying_api: ApiClient, recorder: Recorder, admin_db: psycopg.Connection
) -> None:
    """Given a relay, when an account is locked by wrong passwords (a refusal that commits
    its trace), then the critical lockout event is relayed, without a venue."""
    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    for _ in range(5):
        refused = authorize(relaying_api, email, "not-the-password", source_ip="192.0.2.71")
        assert refused.refused, refused.text

    events = [event for event, _ in recorder.relayed]
    actions = admin_db.execute(
        "SELECT action, venue_id, critical FROM audit_outbox WHERE id = ANY(%s)",
        ([event.id for event in events],),
    ).fetchall()
    assert ("auth.lockout", None, True) in actions
    assert all(event.venue_id is None for event in events)
    assert all(committed for _, committed in recorder.relayed)


def test_a_relay_that_fails_never_fails_the_request(
    runtime: Runtime,
    database: postgres.Database,
    signing_key: SigningKey,
    issuer: Issuer,
    admin_db: psycopg.Connection,
) -> None:
    """Given a relay that raises, when the head chef changes a price, then the answer is
    200, the price changed, and its event is in the outbox, not yet consumed."""
    failing = Recorder(database.admin_url, fail=True)
    api = make_api(
        dataclasses.replace(runtime, relay=failing),
        trusted_keys(signing_key, issuer),
        signing_key,
        database.admin_url,
    )
    new_price = price(admin_db) + 3

    response = api.patch(
        f"/venues/{CENTRALE}/menu/items/{TIRAMISU}",
        as_user=USER["head_chef"].id,
        json_body={"price_cents": new_price},
    )

    assert response.status == 200, response.text
    assert price(admin_db) == new_price
    ((event, _),) = failing.relayed
    assert admin_db.execute(
        "SELECT published_at FROM audit_outbox WHERE id = %s", (event.id,)
    ).fetchone() == (None,)


def test_the_sqs_relay_sends_one_message_per_event_grouped_by_venue(issuer: Issuer) -> None:
    """Given a FIFO queue (moto), when the SQS relay sends a venue's event and a platform
    event, then each is one message: its body names the event, its group is the venue (or
    the platform's group) and its deduplication id is the event id."""
    import boto3

    sqs = boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(
        QueueName=f"relay-{uuid.uuid4().hex[:8]}.fifo", Attributes={"FifoQueue": "true"}
    )["QueueUrl"]
    events = [OutboxEvent(uuid.uuid4(), CENTRALE), OutboxEvent(uuid.uuid4(), None)]

    SqsRelay(queue, client=lambda: sqs)(events)

    received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, AttributeNames=["All"])[
        "Messages"
    ]
    seen = {
        (
            message["Attributes"]["MessageGroupId"],
            message["Attributes"]["MessageDeduplicationId"],
            parse_message(message["Body"]),
        )
        for message in received
    }
    assert seen == {
        (str(CENTRALE), str(events[0].id), events[0]),
        ("platform", str(events[1].id), events[1]),
    }


def test_the_sqs_relay_swallows_a_queue_that_cannot_be_reached() -> None:
    """Given an SQS client that raises, when the relay sends, then it returns normally."""

    class Down:
        def send_message_batch(self, **kwargs: Any) -> Any:
            raise ConnectionError("no route to the queue")

    SqsRelay("https://sqs.invalid/q.fifo", client=Down)([OutboxEvent(uuid.uuid4(), None)])


@pytest.mark.parametrize(
    "body",
    [
        "not json",
        "[1, 2]",
        json.dumps({"v": 2, "event_id": str(uuid.uuid4()), "venue_id": None}),
        json.dumps({"event_id": str(uuid.uuid4()), "venue_id": None}),
        json.dumps({"v": 1, "event_id": "nope", "venue_id": None}),
        json.dumps({"v": 1, "event_id": str(uuid.uuid4()), "venue_id": None, "extra": 1}),
        json.dumps({"v": 1, "event_id": 7, "venue_id": None}),
    ],
    ids=[
        "not json",
        "not an object",
        "unknown version",
        "no version",
        "bad id",
        "extra field",
        "id not a string",
    ],
)
def test_a_message_that_is_not_a_known_schema_is_unreadable(body: str) -> None:
    """Given a queue message that is malformed or of an unknown schema, when it is parsed,
    then it is refused as unreadable (the consumer lets such messages go to the DLQ)."""
    with pytest.raises(UnreadableMessage):
        parse_message(body)
