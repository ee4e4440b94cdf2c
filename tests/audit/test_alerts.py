"""Critical events raise SNS alerts, rate-limited per venue and kind by a token bucket in
Postgres; what is held back is summed up once, later; redelivery never alerts twice and a
lost publish is not lost."""

from __future__ import annotations

from typing import Any

import psycopg

from audit.alerts import Publisher
from audit.pipeline import AuditPipeline
from audit.sweep import sweep
from infra.local.audit import drain
from tests.audit.conftest import LIMITS, Handler
from tests.support.audit import AuditAws, alerts_received, logged_rows, outbox_events, send
from tests.support.second_factor import new_venue

ACCESS = "platform_admin.venue_access"


def of_venue(alerts: list[dict[str, Any]], venue: object) -> list[dict[str, Any]]:
    return [alert for alert in alerts if alert.get("venue_id") == str(venue)]


def test_a_burst_of_critical_events_raises_the_allowance_and_one_summary(
    audit_admin: psycopg.Connection,
    aws: AuditAws,
    pipeline: AuditPipeline,
    consumer: Handler,
) -> None:
    """Given a venue's allowance of five alerts, when 100 critical events arrive in a burst,
    then at most five alerts are published, one per event it names; and when the sweeper
    runs later, one summary says the other 95 were held back; a second run adds nothing."""
    venue = new_venue(audit_admin)
    events = outbox_events(audit_admin, venue, 100, action=ACCESS, critical=True)
    send(aws, events)

    drain(aws.sqs, aws.queue_url, consumer)
    burst = of_venue(alerts_received(aws), venue)
    sweep(pipeline)
    later = of_venue(alerts_received(aws), venue)
    sweep(pipeline)
    again = of_venue(alerts_received(aws), venue)

    assert len(logged_rows(audit_admin, venue)) == 100
    assert len(burst) == LIMITS.burst
    assert {alert["alert"] for alert in burst} == {"critical audit event"}
    assert {alert["action"] for alert in burst} == {ACCESS}
    assert len({alert["event_id"] for alert in burst}) == LIMITS.burst
    assert [(a["alert"], a["action"], a["held_back"]) for a in later] == [
        ("held back", ACCESS, 100 - LIMITS.burst)
    ]
    assert later[0]["subject"] == f"{100 - LIMITS.burst} critical audit alerts held back: {ACCESS}"
    assert again == []
    assert len(burst) + len(later) <= LIMITS.burst + 1


def test_each_kind_of_event_has_its_own_allowance(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given a venue, when ten lockouts and ten platform-admin accesses arrive, then each
    kind raises its own five alerts; ordinary events raise none."""
    venue = new_venue(audit_admin)
    send(aws, outbox_events(audit_admin, venue, 10, action="auth.lockout", critical=True))
    send(aws, outbox_events(audit_admin, venue, 10, action=ACCESS, critical=True))
    send(aws, outbox_events(audit_admin, venue, 10))

    drain(aws.sqs, aws.queue_url, consumer)
    alerts = of_venue(alerts_received(aws), venue)

    assert sorted(alert["action"] for alert in alerts) == ["auth.lockout"] * 5 + [ACCESS] * 5


def test_redelivery_never_sends_an_alert_twice(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler
) -> None:
    """Given a critical event that was consumed and alerted, when its message is sent and
    consumed again, then no second alert is published."""
    venue = new_venue(audit_admin)
    events = outbox_events(audit_admin, venue, 1, action=ACCESS, critical=True)
    send(aws, events)
    drain(aws.sqs, aws.queue_url, consumer)
    first = of_venue(alerts_received(aws), venue)

    aws.sqs.send_message(
        QueueUrl=aws.queue_url,
        MessageBody=events[0].message_body(),
        MessageGroupId=events[0].group,
        MessageDeduplicationId=f"again-{events[0].id}",
    )
    drain(aws.sqs, aws.queue_url, consumer)

    assert len(first) == 1
    assert of_venue(alerts_received(aws), venue) == []


class FailsOnce(Publisher):
    """The alerts topic refusing the first publish (SNS down for a moment)."""

    def __init__(self, real: Publisher) -> None:
        super().__init__(real.topic_arn, client=real._sns)
        self.failed = False

    def publish(self, subject: str, message: Any) -> None:
        if not self.failed:
            self.failed = True
            raise ConnectionError("SNS is unreachable")
        super().publish(subject, message)


def test_an_alert_that_could_not_be_published_is_sent_on_redelivery(
    audit_admin: psycopg.Connection, aws: AuditAws, pipeline: AuditPipeline, consumer: Handler
) -> None:
    """Given the alerts topic refusing once, when a critical event is consumed, then its
    message fails (it stays on the queue) and its redelivery publishes the alert, once, and
    records it as sent."""
    venue = new_venue(audit_admin)
    events = outbox_events(audit_admin, venue, 1, action=ACCESS, critical=True)
    send(aws, events)
    pipeline.alerts = FailsOnce(pipeline.alerts)

    deliveries = drain(aws.sqs, aws.queue_url, consumer)

    assert [len(delivery.failed) for delivery in deliveries] == [1, 0]
    assert len(of_venue(alerts_received(aws), venue)) == 1
    assert audit_admin.execute(
        "SELECT sent_at IS NOT NULL FROM audit_alerts WHERE event_id = %s", (events[0].id,)
    ).fetchone() == (True,)
