"""How an invitation leaves, as a deployed function builds it from its environment."""

from __future__ import annotations

import pytest

from tenancy.invitations import DEFAULT_SECONDS, Invitations
from tenancy.mail import SesMailer


def test_a_deployed_function_mails_from_its_sender_with_links_to_the_issuer() -> None:
    """Given the environment Need.MAIL and the stack give a function, when it builds its
    invitations, then they go through SES from MAIL_FROM, link to the issuer's page and
    live the default week; the message names the venue, the role and how long it works."""
    invitations = Invitations.from_environment(
        {"MAIL_FROM": "no-reply@venue.example", "TOKEN_ISSUER": "https://auth.venue.example/"}
    )

    message = invitations.message(
        "the-token", to="nina@example.com", venue_name="io osteria nord", role="waiter"
    )

    assert isinstance(invitations.mailer, SesMailer)
    assert invitations.seconds == DEFAULT_SECONDS
    assert invitations.link("a b") == "https://auth.venue.example/oauth/invitation?token=a+b"
    assert message.to == "nina@example.com"
    assert "io osteria nord" in message.subject
    assert "as waiter" in message.text
    assert "for 7 days" in message.text
    assert "https://auth.venue.example/oauth/invitation?token=the-token" in message.text


@pytest.mark.parametrize("env", [{"MAIL_FROM": ""}, {"INVITATION_SECONDS": "0"}])
def test_a_function_without_a_sender_or_with_no_lifetime_refuses_to_invite(
    env: dict[str, str],
) -> None:
    base = {"MAIL_FROM": "no-reply@venue.example", "TOKEN_ISSUER": "https://auth.example"}

    with pytest.raises((RuntimeError, ValueError)):
        Invitations.from_environment(base | env)
