"""Nobody quietly changes or removes the trail: S3 refuses to delete or overwrite a locked
copy, and `make audit-verify` finds what an owner connection did behind the triggers' back
(docs/architecture.md, "The audit pipeline")."""

from __future__ import annotations

import dataclasses
import uuid

import psycopg
import pytest
from botocore.exceptions import ClientError

from audit.chain import canonical, link
from audit.copies import CopyMismatch
from audit.pipeline import AuditPipeline
from infra import audit_verify
from infra.local import postgres
from infra.local.audit import drain
from tests.audit.conftest import Handler
from tests.support.audit import (
    AuditAws,
    alerts_received,
    logged_rows,
    outbox_events,
    send,
    verified,
)
from tests.support.second_factor import new_venue


@pytest.fixture
def trail(audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler) -> uuid.UUID:
    """A venue of its own whose chain holds five events, each with its locked copy."""
    venue = new_venue(audit_admin)
    send(aws, outbox_events(audit_admin, venue, 5))
    drain(aws.sqs, aws.queue_url, consumer)
    assert verified(audit_admin, aws, venue, bucket_only=False).intact
    return venue


def behind_the_triggers(admin: psycopg.Connection, statement: str, *params: object) -> None:
    """What an owner connection can do: switch the append-only triggers off, change the
    table, switch them back on."""
    with admin.transaction():
        admin.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_no_update_delete")
        admin.execute(statement, params)
        admin.execute("ALTER TABLE audit_log ENABLE ALWAYS TRIGGER audit_log_no_update_delete")


def test_a_locked_copy_cannot_be_deleted_or_overwritten(
    audit_admin: psycopg.Connection, aws: AuditAws, pipeline: AuditPipeline, trail: uuid.UUID
) -> None:
    """Given a locked copy, when someone deletes its version (even asking to bypass
    governance retention), S3 refuses; a conditional put of other content at its key (the
    consumer's own kind of put) is refused too, and the consumer's path reports the
    mismatch; an unconditional put only adds a version beside the locked one, which stays
    as it was, and verify reports the object altered."""
    row = logged_rows(audit_admin, trail)[2]
    (original,) = aws.s3.list_object_versions(Bucket=aws.bucket, Prefix=row.key)["Versions"]
    forged = dataclasses.replace(row, event={**row.event, "details": {"price_cents": 1}})

    for bypass in (False, True):
        with pytest.raises(ClientError) as refused:
            aws.s3.delete_object(
                Bucket=aws.bucket,
                Key=row.key,
                VersionId=original["VersionId"],
                BypassGovernanceRetention=bypass,
            )
        assert refused.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError) as refused:
        aws.s3.put_object(
            Bucket=aws.bucket, Key=row.key, Body=canonical(forged.event), IfNoneMatch="*"
        )
    assert refused.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(CopyMismatch):
        pipeline.copies.put(forged)
    aws.s3.put_object(Bucket=aws.bucket, Key=row.key, Body=b'{"action":"nothing happened"}')

    versions = aws.s3.list_object_versions(Bucket=aws.bucket, Prefix=row.key)["Versions"]
    kept = aws.s3.get_object(Bucket=aws.bucket, Key=row.key, VersionId=original["VersionId"])
    assert len(versions) == 2
    assert original["VersionId"] in {version["VersionId"] for version in versions}
    assert kept["Body"].read() == canonical(row.event)
    assert kept["ObjectLockMode"] == "COMPLIANCE"
    for bucket_only in (False, True):
        report = verified(audit_admin, aws, trail, bucket_only=bucket_only)
        assert report.divergence is not None
        assert (report.divergence.kind, report.divergence.seq) == ("object altered", 3)


def test_a_delete_marker_hides_nothing(
    audit_admin: psycopg.Connection, aws: AuditAws, trail: uuid.UUID
) -> None:
    """Given a locked copy, when someone deletes its key without naming a version (S3 then
    adds a delete marker), the locked version is still listed, and verify reports it hidden."""
    row = logged_rows(audit_admin, trail)[0]

    aws.s3.delete_object(Bucket=aws.bucket, Key=row.key)

    listed = aws.s3.list_object_versions(Bucket=aws.bucket, Prefix=row.key)
    assert len(listed["Versions"]) == 1
    assert len(listed["DeleteMarkers"]) == 1
    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert (report.divergence.kind, report.divergence.seq) == ("object missing", 1)


def test_an_update_made_behind_the_triggers_is_found(
    audit_admin: psycopg.Connection, aws: AuditAws, trail: uuid.UUID
) -> None:
    """Given a chain of five, when the superuser switches the triggers off, changes the
    third row's details and switches them on again, then verify reports that row changed."""
    row = logged_rows(audit_admin, trail)[2]

    behind_the_triggers(
        audit_admin,
        "UPDATE audit_log SET event = jsonb_set(event, '{details,price_cents}', '1')"
        " WHERE event_id = %s",
        row.event_id,
    )

    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert (report.divergence.kind, report.divergence.seq) == ("row changed", 3)
    assert verified(audit_admin, aws, trail, bucket_only=True).intact


def test_a_row_rewritten_with_every_later_hash_recomputed_is_found(
    audit_admin: psycopg.Connection, aws: AuditAws, trail: uuid.UUID
) -> None:
    """Given a chain of five, when the superuser rewrites the second row and recomputes its
    hash and every later link (the table alone is consistent again), then verify still
    reports the second row changed: it differs from its locked copy."""
    rows = logged_rows(audit_admin, trail)
    forged = {**rows[1].event, "details": {"price_cents": 1}}
    previous = rows[0].hash
    for row in rows[1:]:
        event = forged if row.seq == 2 else row.event
        digest = link(previous, canonical(event))
        behind_the_triggers(
            audit_admin,
            "UPDATE audit_log SET event = %s, prev_hash = %s, hash = %s WHERE event_id = %s",
            psycopg.types.json.Jsonb(event),
            previous,
            digest,
            row.event_id,
        )
        previous = digest

    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert (report.divergence.kind, report.divergence.seq) == ("row changed", 2)
    assert report.divergence.detail == "it differs from its locked copy"


@pytest.mark.parametrize(("seq", "detail"), [(3, "jumps"), (5, "copy the table lacks")])
def test_a_row_deleted_behind_the_triggers_is_found(
    audit_admin: psycopg.Connection, aws: AuditAws, trail: uuid.UUID, seq: int, detail: str
) -> None:
    """Given a chain of five, when the superuser deletes a row behind the triggers (in the
    middle, or the last one, which leaves the table's chain consistent), then verify reports
    that row missing."""
    row = logged_rows(audit_admin, trail)[seq - 1]

    behind_the_triggers(audit_admin, "DELETE FROM audit_log WHERE event_id = %s", row.event_id)

    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert (report.divergence.kind, report.divergence.seq) == ("row missing", seq)
    assert detail in report.divergence.detail


def test_a_row_without_its_copy_is_found(
    audit_admin: psycopg.Connection, aws: AuditAws, pipeline: AuditPipeline, trail: uuid.UUID
) -> None:
    """Given a chain whose next event was appended but never copied (its message died before
    the put), then verify reports the object missing, and the bucket alone ends before it."""
    from audit.chain import append

    (event,) = outbox_events(audit_admin, trail, 1)
    with pipeline.database.connection() as conn:
        append(conn, trail, [event.id])

    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert (report.divergence.kind, report.divergence.seq) == ("object missing", 6)
    assert verified(audit_admin, aws, trail, bucket_only=True).intact


def test_a_consumed_event_removed_from_the_log_is_never_appended_again(
    audit_admin: psycopg.Connection, aws: AuditAws, consumer: Handler, trail: uuid.UUID
) -> None:
    """Given a row deleted behind the triggers, when its message is delivered again, then
    the consumer refuses to append it a second time (which would paper over the gap): the
    message fails, and verify still reports the row missing."""
    row = logged_rows(audit_admin, trail)[4]
    behind_the_triggers(audit_admin, "DELETE FROM audit_log WHERE event_id = %s", row.event_id)
    aws.sqs.send_message(
        QueueUrl=aws.queue_url,
        MessageBody=f'{{"v":1,"event_id":"{row.event_id}","venue_id":"{trail}"}}',
        MessageGroupId=str(trail),
        MessageDeduplicationId=f"again-{row.event_id}",
    )

    deliveries = drain(aws.sqs, aws.queue_url, consumer)

    assert all(len(delivery.failed) == 1 for delivery in deliveries)
    assert [r.seq for r in logged_rows(audit_admin, trail)] == [1, 2, 3, 4]
    report = verified(audit_admin, aws, trail, bucket_only=False)
    assert report.divergence is not None
    assert report.divergence.kind == "row missing"


@pytest.fixture
def verify_env(
    monkeypatch: pytest.MonkeyPatch, audit_database: postgres.Database, aws: AuditAws
) -> None:
    """The environment `make audit-verify` reads in AWS, pointing at this test's pipeline."""
    monkeypatch.setenv("AUDIT_DATABASE_URL", audit_database.audit_url)
    monkeypatch.setenv("AUDIT_BUCKET_NAME", aws.bucket)
    monkeypatch.setenv("ALERTS_TOPIC_ARN", aws.topic_arn)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")


def test_the_command_exits_non_zero_and_alerts_at_the_first_divergence(
    audit_admin: psycopg.Connection,
    aws: AuditAws,
    trail: uuid.UUID,
    verify_env: None,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Given an intact chain, `python -m infra.audit_verify <venue>` exits 0 (also with
    --bucket-only); after a row is changed behind the triggers, it exits 1, names the first
    divergence, and publishes one critical alert for the venue."""
    assert audit_verify.main([str(trail)]) == 0
    assert audit_verify.main([str(trail), "--bucket-only"]) == 0
    assert "intact" in capsys.readouterr().out
    row = logged_rows(audit_admin, trail)[3]
    behind_the_triggers(
        audit_admin,
        'UPDATE audit_log SET event = event || \'{"target_id": "x"}\' WHERE event_id = %s',
        row.event_id,
    )

    code = audit_verify.main([str(trail)])

    assert code == 1
    assert "row changed at seq 4" in capsys.readouterr().err
    alerts = [a for a in alerts_received(aws) if a.get("venue_id") == str(trail)]
    assert [(a["alert"], a["kind"], a["seq"]) for a in alerts] == [
        ("audit verification failed", "row changed", 4)
    ]


def test_the_command_refuses_what_is_not_a_venue(verify_env: None) -> None:
    """Given a venue argument that is neither a UUID nor 'platform', the command exits 2."""
    assert audit_verify.main(["centrale"]) == 2


@pytest.mark.parametrize("role", ["audit", "issuer", "venue"])
@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET event = '{}'::jsonb", "DELETE FROM audit_log", "TRUNCATE audit_log"],
)
def test_no_function_role_changes_or_removes_a_row(
    audit_database: postgres.Database,
    audit_admin: psycopg.Connection,
    trail: uuid.UUID,
    role: str,
    statement: str,
) -> None:
    """Given a chain, when any function's role (the consumer's included) updates, deletes or
    truncates audit_log, then the database refuses and the chain is intact."""
    url = getattr(audit_database, f"{role}_url")
    before = logged_rows(audit_admin, trail)

    with psycopg.connect(url) as conn, pytest.raises(psycopg.errors.InsufficientPrivilege):
        conn.execute(statement)

    assert logged_rows(audit_admin, trail) == before
