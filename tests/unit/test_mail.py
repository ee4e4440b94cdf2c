"""The issuer's one way out for mail: SES in AWS, from the configured sender."""

from __future__ import annotations

from typing import Any

import pytest

from infra.local.mailbox import LocalMailbox
from tenancy.mail import MailMessage, SesMailer


class FakeSes:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []

    def send_email(self, **request: Any) -> dict[str, str]:
        self.sent.append(request)
        return {"MessageId": "1"}


def test_ses_sends_plain_text_from_the_configured_sender() -> None:
    """Given the SES mailer with a sender, when a message is sent, then SES (v2) is asked
    to send it from that sender, to that one address, as UTF-8 text."""
    ses = FakeSes()

    SesMailer("no-reply@venue.example", client=ses).send(
        MailMessage(to="giulia@io-osteria.example", subject="Choose a new password", text="é")
    )

    (request,) = ses.sent
    assert request["FromEmailAddress"] == "no-reply@venue.example"
    assert request["Destination"] == {"ToAddresses": ["giulia@io-osteria.example"]}
    simple = request["Content"]["Simple"]
    assert simple["Subject"] == {"Data": "Choose a new password", "Charset": "UTF-8"}
    assert simple["Body"] == {"Text": {"Data": "é", "Charset": "UTF-8"}}


def test_ses_without_a_sender_is_refused_at_once() -> None:
    """Given no MAIL_FROM, then the mailer is not built: no message would leave anyway."""
    with pytest.raises(RuntimeError, match="MAIL_FROM"):
        SesMailer("")


def test_the_local_mailbox_keeps_messages_and_finds_the_last_link(tmp_path: Any) -> None:
    """Given the local mailbox, when two messages go to one address, then both are kept in
    order and the newest reset link is the one found."""
    mailbox = LocalMailbox(tmp_path)
    for token in ("first", "second"):
        link = f"http://127.0.0.1:8787/oauth/password-reset/confirm?token={token}"
        mailbox.send(MailMessage(to="a@b.example", subject="s", text=f"go to {link} now"))

    assert [m.subject for m in mailbox.messages("a@b.example")] == ["s", "s"]
    assert mailbox.last_link("a@b.example") == (
        "http://127.0.0.1:8787/oauth/password-reset/confirm?token=second"
    )
    assert mailbox.messages("other@b.example") == []
