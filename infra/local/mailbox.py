"""The local stand-in for SES: mail the issuer sends (password-reset links, invitations) is
written to a folder, one JSON file a message, for `make dev` (DEV_STATE_DIR/mailbox) and the
tests. `make mail` shows it:

    make mail                      # every message, oldest first
    make mail TO=giulia@io-osteria.example

Never deployed: infra/ is not part of any function's code or layer.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
import uuid
from dataclasses import asdict
from pathlib import Path

from infra.local.state import state_dir
from tenancy.mail import MailMessage

__all__ = ["LocalMailbox", "main"]

_LINK = re.compile(r"https?://\S+/oauth/password-reset/confirm\?token=[A-Za-z0-9_%=-]+")
_INVITATION = re.compile(r"https?://\S+/oauth/invitation\?token=[A-Za-z0-9_%=-]+")


class LocalMailbox:
    """A ``Mailer`` that keeps every message in ``directory``."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()

    def send(self, message: MailMessage) -> None:
        with self._lock:
            self.directory.mkdir(parents=True, exist_ok=True)
            name = f"{time.time_ns():020d}-{uuid.uuid4().hex[:8]}.json"
            (self.directory / name).write_text(json.dumps(asdict(message)))

    def messages(self, to: str | None = None) -> list[MailMessage]:
        """Every message (to ``to`` only, when given), oldest first."""
        found = [
            MailMessage(**json.loads(path.read_text()))
            for path in sorted(self.directory.glob("*.json"))
        ]
        return [m for m in found if to is None or m.to == to.strip().lower()]

    def last_link(self, to: str, *, kind: str = "reset") -> str | None:
        """The newest link to ``to`` of its ``kind``: ``reset`` (a password-reset link) or
        ``invitation``."""
        pattern = _INVITATION if kind == "invitation" else _LINK
        for message in reversed(self.messages(to)):
            match = pattern.search(message.text)
            if match:
                return match.group(0)
        return None


def main(argv: list[str]) -> int:
    mailbox = LocalMailbox(state_dir() / "mailbox")
    to = argv[1] if len(argv) > 1 and argv[1] else None
    messages = mailbox.messages(to) if mailbox.directory.is_dir() else []
    if not messages:
        print(f"no mail{' to ' + to if to else ''} in {mailbox.directory}", file=sys.stderr)
        return 1
    for message in messages:
        print(f"To: {message.to}\nSubject: {message.subject}\n\n{message.text}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv))
