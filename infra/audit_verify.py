"""`make audit-verify VENUE=<venue id | platform>`: is a venue's audit trail intact?

Recomputes the venue's hash chain from ``audit_log`` and compares every row with its
object-locked copy in the audit bucket, then reports the first divergence and exits 1:

- ``row changed``: a row's hash is not the hash of its content, or the row differs from its
  locked copy (a row rewritten, even with every later hash recomputed);
- ``row missing``: the sequence jumps, or the bucket holds a copy of a row the table lacks;
- ``chain broken``: a row's ``prev_hash`` is not the hash of the row before it;
- ``object missing``: no copy of a row, or only a delete marker in front of it;
- ``object altered``: a copy that does not hash to its metadata, is not locked in
  COMPLIANCE mode, or has a second version with other content.

``--bucket-only`` verifies the bucket alone (each copy carries its chain links in its
metadata), for when the database itself is in doubt. Exit 0 when intact, 1 at the first
divergence (and, when ALERTS_TOPIC_ARN is set, a rate-limited critical alert), 2 when it
cannot run. Where it looks: infra/audit_local.py.
"""

from __future__ import annotations

import argparse
import sys
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from audit.chain import GENESIS, canonical, link
from audit.copies import sha256_b64
from infra.audit_local import Pipeline, pipeline_settings

__all__ = [
    "Copy",
    "Divergence",
    "Report",
    "Row",
    "main",
    "read_copies",
    "read_rows",
    "verify",
    "verify_bucket",
]


@dataclass(frozen=True)
class Row:
    seq: int
    event_id: uuid.UUID
    prev_hash: bytes
    hash: bytes
    event: Mapping[str, Any]


@dataclass(frozen=True)
class Version:
    version_id: str
    content: bytes
    metadata: Mapping[str, str]
    lock_mode: str | None
    checksum: str | None


@dataclass
class Copy:
    """Every version under one key of the bucket."""

    key: str
    seq: int
    event_id: str
    versions: list[Version] = field(default_factory=list)
    #: The newest version is a delete marker (the locked versions stay behind it).
    hidden: bool = False


@dataclass(frozen=True)
class Divergence:
    kind: str
    seq: int
    detail: str

    def __str__(self) -> str:
        return f"{self.kind} at seq {self.seq}: {self.detail}"


@dataclass(frozen=True)
class Report:
    chain: str
    rows: int
    copies: int
    divergence: Divergence | None
    head: bytes

    @property
    def intact(self) -> bool:
        return self.divergence is None


def chain_name(venue_id: uuid.UUID | None) -> str:
    return "platform" if venue_id is None else str(venue_id)


def read_rows(conn: Any, venue_id: uuid.UUID | None) -> list[Row]:
    where = "venue_id IS NULL" if venue_id is None else "venue_id = %(venue)s"
    rows = conn.execute(
        f"SELECT seq, event_id, prev_hash, hash, event FROM public.audit_log WHERE {where}"
        " ORDER BY seq",
        {"venue": venue_id},
    ).fetchall()
    return [Row(int(s), e, bytes(p), bytes(h), ev) for s, e, p, h, ev in rows]


def read_copies(s3: Any, bucket: str, venue_id: uuid.UUID | None) -> dict[int, list[Copy]]:
    """Every key under the venue's prefix, with every version's content, by sequence."""
    prefix = chain_name(venue_id) + "/"
    copies: dict[str, Copy] = {}
    newest_marker: set[str] = set()
    pages = s3.get_paginator("list_object_versions").paginate(Bucket=bucket, Prefix=prefix)
    for page in pages:
        for marker in page.get("DeleteMarkers", []):
            if marker.get("IsLatest"):
                newest_marker.add(marker["Key"])
        for listed in page.get("Versions", []):
            key = listed["Key"]
            if key not in copies:
                parts = key[len(prefix) :].split("/")
                try:
                    seq = int(parts[1])
                except (IndexError, ValueError):
                    seq = -1
                event_id = parts[2].removesuffix(".json") if len(parts) > 2 else ""
                copies[key] = Copy(key, seq, event_id)
            got = s3.get_object(
                Bucket=bucket, Key=key, VersionId=listed["VersionId"], ChecksumMode="ENABLED"
            )
            copies[key].versions.append(
                Version(
                    listed["VersionId"],
                    got["Body"].read(),
                    dict(got.get("Metadata") or {}),
                    got.get("ObjectLockMode"),
                    got.get("ChecksumSHA256"),
                )
            )
    by_seq: dict[int, list[Copy]] = {}
    for key, copy in copies.items():
        copy.hidden = key in newest_marker
        by_seq.setdefault(copy.seq, []).append(copy)
    return by_seq


def _copy_problem(copies: Sequence[Copy] | None, seq: int) -> Divergence | None:
    """What is wrong with a sequence's copy on its own, if anything."""
    if not copies:
        return Divergence("object missing", seq, "the bucket has no copy")
    if len(copies) > 1:
        keys = ", ".join(sorted(copy.key for copy in copies))
        return Divergence("object altered", seq, f"more than one object claims it: {keys}")
    (copy,) = copies
    if copy.hidden:
        return Divergence(
            "object missing", seq, f"{copy.key} is behind a delete marker (locked version kept)"
        )
    first = copy.versions[0]
    for version in copy.versions:
        if version.content != first.content or version.metadata != first.metadata:
            return Divergence("object altered", seq, f"{copy.key} has versions that differ")
        if version.lock_mode != "COMPLIANCE":
            return Divergence("object altered", seq, f"{copy.key} is not locked (COMPLIANCE)")
        if version.checksum is not None and version.checksum != sha256_b64(version.content):
            return Divergence("object altered", seq, f"{copy.key} fails its SHA-256 checksum")
    meta = first.metadata
    try:
        prev_hash, digest = bytes.fromhex(meta["prev-hash"]), bytes.fromhex(meta["hash"])
    except (KeyError, ValueError):
        return Divergence("object altered", seq, f"{copy.key} lost its chain metadata")
    if meta.get("seq") != str(seq) or link(prev_hash, first.content) != digest:
        return Divergence("object altered", seq, f"{copy.key} does not hash to its metadata")
    return None


def verify(chain: str, rows: Sequence[Row], copies: Mapping[int, list[Copy]]) -> Report:
    """The database's chain, row by row, against itself and its locked copies."""
    expected_prev, expected_seq = GENESIS, 1

    def report(divergence: Divergence | None) -> Report:
        count = sum(len(items) for items in copies.values())
        return Report(chain, len(rows), count, divergence, expected_prev)

    for row in rows:
        if row.seq != expected_seq:
            return report(
                Divergence(
                    "row missing",
                    expected_seq,
                    f"the table jumps from seq {expected_seq - 1} to {row.seq}",
                )
            )
        content = canonical(row.event)
        if link(row.prev_hash, content) != row.hash:
            return report(
                Divergence("row changed", row.seq, "its hash is not the hash of its content")
            )
        problem = _copy_problem(copies.get(row.seq), row.seq)
        if problem is not None:
            return report(problem)
        (copy,) = copies[row.seq]
        kept = copy.versions[0]
        if (
            kept.content != content
            or copy.event_id != str(row.event_id)
            or kept.metadata.get("hash") != row.hash.hex()
            or kept.metadata.get("prev-hash") != row.prev_hash.hex()
        ):
            return report(Divergence("row changed", row.seq, "it differs from its locked copy"))
        if row.prev_hash != expected_prev:
            return report(
                Divergence("chain broken", row.seq, "prev_hash is not the previous row's hash")
            )
        expected_prev, expected_seq = row.hash, expected_seq + 1
    beyond = sorted(seq for seq in copies if seq >= expected_seq)
    if beyond:
        return report(
            Divergence("row missing", beyond[0], "the bucket holds a copy the table lacks")
        )
    return report(None)


def verify_bucket(chain: str, copies: Mapping[int, list[Copy]]) -> Report:
    """The bucket alone: every copy sound, the sequence unbroken, each linked to the last."""
    expected_prev = GENESIS
    last = max(copies, default=0)
    count = sum(len(items) for items in copies.values())
    for seq in range(1, last + 1):
        problem = _copy_problem(copies.get(seq), seq)
        if problem is None:
            meta = copies[seq][0].versions[0].metadata
            if bytes.fromhex(meta["prev-hash"]) != expected_prev:
                problem = Divergence("chain broken", seq, "prev-hash is not the previous hash")
        if problem is not None:
            return Report(chain, 0, count, problem, expected_prev)
        expected_prev = bytes.fromhex(copies[seq][0].versions[0].metadata["hash"])
    strays = sorted(seq for seq in copies if seq < 1)
    if strays:
        keys = ", ".join(copy.key for copy in copies[strays[0]])
        return Report(chain, 0, count, Divergence("object altered", 0, keys), expected_prev)
    return Report(chain, 0, count, None, expected_prev)


def _venue(text: str) -> uuid.UUID | None:
    if text == "platform":
        return None
    try:
        return uuid.UUID(text)
    except ValueError:
        raise SystemExit(f"not a venue id (or 'platform'): {text!r}") from None


def _listing(rows: Iterable[Row], copies: Mapping[int, list[Copy]]) -> list[str]:
    lines = []
    for row in rows:
        keys = ", ".join(copy.key for copy in copies.get(row.seq, [])) or "(no copy)"
        lines.append(
            f"  {row.seq:>6}  {row.event.get('occurred_at', '?'):<27}"
            f" {row.event.get('action', '?'):<32} {row.hash.hex()[:16]}  {keys}"
        )
    return lines


def run(pipeline: Pipeline, venue_id: uuid.UUID | None, *, bucket_only: bool, listing: bool) -> int:
    from tenancy.db import connect

    chain = chain_name(venue_id)
    copies = read_copies(pipeline.client("s3"), pipeline.bucket, venue_id)
    rows: list[Row] = []
    if bucket_only:
        report = verify_bucket(chain, copies)
    else:
        with connect(pipeline.database_url) as conn, conn.request():
            rows = read_rows(conn, venue_id)
        report = verify(chain, rows, copies)
    if listing:
        print("\n".join(_listing(rows, copies)))
    where = "the bucket" if bucket_only else f"{report.rows} rows, {report.copies} objects"
    if report.intact:
        print(f"{chain}: intact ({where}); head {report.head.hex()}")
        return 0
    print(f"{chain}: DIVERGENCE ({where}): {report.divergence}", file=sys.stderr)
    if pipeline.topic_arn and pipeline.database_url:
        _alert(pipeline, venue_id, report)
    return 1


def _alert(pipeline: Pipeline, venue_id: uuid.UUID | None, report: Report) -> None:
    from audit.alerts import Publisher, try_alert
    from tenancy.db import connect

    divergence = report.divergence
    assert divergence is not None
    with connect(pipeline.database_url) as conn:
        try_alert(
            conn,
            Publisher(pipeline.topic_arn, client=lambda: pipeline.client("sns")),
            venue_id,
            "audit.verification_failed",
            f"Audit trail verification failed: {report.chain}",
            {
                "alert": "audit verification failed",
                "venue_id": None if venue_id is None else str(venue_id),
                "kind": divergence.kind,
                "seq": divergence.seq,
                "detail": divergence.detail,
            },
        )


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("venue", help="a venue id, or 'platform' for events without a venue")
    parser.add_argument("--bucket-only", action="store_true", help="verify the bucket alone")
    parser.add_argument("--list", action="store_true", help="list every row and its copy")
    args = parser.parse_args(argv)
    try:
        venue_id = _venue(args.venue)
        pipeline = pipeline_settings()
    except SystemExit as refusal:
        print(refusal, file=sys.stderr)
        return 2
    return run(pipeline, venue_id, bucket_only=args.bucket_only, listing=args.list)


if __name__ == "__main__":
    raise SystemExit(main())
