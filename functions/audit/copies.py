"""The audit bucket's copy of each logged event: an independent WORM record.

Each event is one object, ``<venue>/<date>/<seq>/<event id>.json``, whose content is exactly
the canonical event the chain hashed, with the chain's ``seq``, ``prev-hash`` and ``hash`` in
its metadata (so the bucket alone can be verified), a SHA-256 checksum S3 checks on arrival,
and the bucket's default Object Lock retention, COMPLIANCE mode (template.yaml): nobody, the
root account included, can delete or overwrite that version before it expires. The
consumer sets no lock itself, so it needs neither s3:PutObjectRetention nor to read the
bucket's configuration; `make audit-verify` reports any copy that is not locked.

The put is conditional (``If-None-Match: *``): a redelivered event finds its object and
checks it is the same, so redelivery leaves one object version, never a second.
"""

from __future__ import annotations

import base64
import hashlib
import threading
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from audit.chain import Logged

__all__ = ["BucketCopies", "CopyMismatch", "metadata_of", "sha256_b64"]


class CopyMismatch(RuntimeError):
    """The bucket already holds this event's key with other content: never overwritten."""


def sha256_b64(content: bytes) -> str:
    return base64.b64encode(hashlib.sha256(content).digest()).decode()


def metadata_of(logged: Logged) -> dict[str, str]:
    """The chain's links, as object metadata (immutable with the locked version)."""
    return {
        "seq": str(logged.seq),
        "prev-hash": logged.prev_hash.hex(),
        "hash": logged.hash.hex(),
        "event-id": str(logged.event_id),
    }


class BucketCopies:
    """Puts logged events into the object-locked audit bucket."""

    def __init__(self, bucket: str, client: Callable[[], Any] | None = None) -> None:
        self.bucket = bucket
        self._make_client = client or _s3_client
        self._client: Any = None
        self._lock = threading.Lock()

    def s3(self) -> Any:
        with self._lock:
            if self._client is None:
                self._client = self._make_client()
            return self._client

    def put(self, logged: Logged) -> None:
        """The event's locked copy: written once; an existing one must be identical."""
        s3 = self.s3()
        content = logged.content
        checksum = sha256_b64(content)
        try:
            s3.put_object(
                Bucket=self.bucket,
                Key=logged.key,
                Body=content,
                ContentType="application/json",
                ChecksumAlgorithm="SHA256",
                ChecksumSHA256=checksum,
                Metadata=metadata_of(logged),
                IfNoneMatch="*",
            )
        except s3.exceptions.ClientError as error:
            if error.response.get("Error", {}).get("Code") != "PreconditionFailed":
                raise
            self._same_as(logged, checksum)

    def _same_as(self, logged: Logged, checksum: str) -> None:
        head = self.s3().head_object(Bucket=self.bucket, Key=logged.key, ChecksumMode="ENABLED")
        if head.get("ChecksumSHA256") != checksum or head.get("Metadata") != metadata_of(logged):
            raise CopyMismatch(f"{logged.key} already holds other content")


def _s3_client() -> Any:
    import boto3

    return boto3.client("s3")
