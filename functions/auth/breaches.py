"""Have-I-Been-Pwned's k-anonymity range API: only a 5-character SHA-1 prefix leaves us."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Literal, Protocol

from tenancy.problems import Problem

__all__ = [
    "BreachChecker",
    "BreachCorpusUnavailable",
    "HttpRangeClient",
    "LocalCorpusRangeClient",
    "RangeClient",
]


class BreachCorpusUnavailable(Exception):
    """The corpus could not be asked (network, timeout, missing file)."""


class RangeClient(Protocol):
    def range(self, prefix: str) -> str:
        """The raw answer for a 5-hex-character prefix: "SUFFIX:COUNT" lines."""


class HttpRangeClient:
    def __init__(
        self, base_url: str = "https://api.pwnedpasswords.com/range/", timeout: float = 2.0
    ) -> None:
        self._base_url = base_url if base_url.endswith("/") else base_url + "/"
        self._timeout = timeout

    def range(self, prefix: str) -> str:
        # Imported here: urllib.request brings http.client, email and ssl (~20 ms of a cold
        # start), needed only when a password is checked, not by every import of the area.
        import urllib.error
        import urllib.request

        request = urllib.request.Request(  # noqa: S310 - https in production, loopback in tests
            self._base_url + prefix,
            headers={"Add-Padding": "true", "User-Agent": "venue-backend-password-check"},
        )
        try:
            # The base URL is the configured https endpoint, never input.
            with urllib.request.urlopen(request, timeout=self._timeout) as response:  # noqa: S310 # nosec B310
                return str(response.read().decode("utf-8"))
        except (urllib.error.URLError, OSError, ValueError) as error:
            raise BreachCorpusUnavailable(str(error)) from None


class LocalCorpusRangeClient:
    """A file of "SHA1:COUNT" lines standing in for the API (tests, `make dev`); answers in
    the API's shape, padding lines (count 0) included."""

    def __init__(self, path: Path) -> None:
        self._path = path

    def range(self, prefix: str) -> str:
        try:
            text = self._path.read_text()
        except OSError as error:
            raise BreachCorpusUnavailable(str(error)) from None
        lines = []
        for line in text.splitlines():
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            digest, _, count = line.partition(":")
            if digest.upper().startswith(prefix):
                lines.append(f"{digest.upper()[5:]}:{count or 1}")
        padding = [
            hashlib.sha1(f"padding-{prefix}-{i}".encode(), usedforsecurity=False)
            .hexdigest()
            .upper()[5:]
            + ":0"
            for i in range(3)
        ]
        return "\r\n".join(lines + padding)


class BreachChecker:
    """Whether a password is in the corpus. ``on_unavailable`` decides when it cannot be
    asked: "refuse" (the issuer's default: fail closed) or "allow"."""

    def __init__(self, client: RangeClient, on_unavailable: Literal["refuse", "allow"]) -> None:
        self._client = client
        self._on_unavailable = on_unavailable

    def is_breached(self, password: str) -> bool:
        # SHA-1 is what the range API is keyed by (k-anonymity), not a protection of ours.
        digest = hashlib.sha1(password.encode("utf-8"), usedforsecurity=False).hexdigest().upper()
        prefix, suffix = digest[:5], digest[5:]
        try:
            answer = self._client.range(prefix)
        except BreachCorpusUnavailable:
            if self._on_unavailable == "allow":
                return False
            raise Problem(
                503,
                "breach-check-unavailable",
                "we cannot check passwords against known breaches right now; try again shortly",
                headers={"retry-after": "30"},
            ) from None
        for line in answer.splitlines():
            candidate, _, count = line.strip().partition(":")
            if candidate.upper() == suffix and count.strip() not in ("", "0"):
                return True
        return False
