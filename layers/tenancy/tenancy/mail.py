"""The platform's one way out for mail: the issuer's password-reset links and the
invitations the attach route and the platform area send (``tenancy.invitations``).

In AWS it is SES (``ses:SendEmail`` on the sender's identity, granted by ``Need.MAIL``);
`make dev` and the tests give both a mailbox on disk instead (infra/local/mailbox.py),
which a command reads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

__all__ = ["MailMessage", "Mailer", "SesMailer"]


@dataclass(frozen=True)
class MailMessage:
    to: str
    subject: str
    text: str


class Mailer(Protocol):
    def send(self, message: MailMessage) -> None:
        """Hand ``message`` over for delivery; raises when it cannot be."""


class SesMailer:
    """Sends through SES (v2) from ``sender``, a verified identity of the account."""

    def __init__(self, sender: str, client: Any = None) -> None:
        if not sender:
            raise RuntimeError(
                "set MAIL_FROM: the address reset links and invitations are sent from"
            )
        self._sender = sender
        self._client = client

    def send(self, message: MailMessage) -> None:
        if self._client is None:
            import boto3

            self._client = boto3.client("sesv2")
        self._client.send_email(
            FromEmailAddress=self._sender,
            Destination={"ToAddresses": [message.to]},
            Content={
                "Simple": {
                    "Subject": {"Data": message.subject, "Charset": "UTF-8"},
                    "Body": {"Text": {"Data": message.text, "Charset": "UTF-8"}},
                }
            },
        )
