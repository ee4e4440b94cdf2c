"""Responsible disclosure: SECURITY.md says how to report, and the API publishes the same
contact as RFC 9116's /.well-known/security.txt, to anyone, without a database."""

from __future__ import annotations

import datetime as dt
import re

from disclosure import security_txt
from disclosure.models import SecurityTxt
from infra.local.client import ApiClient
from tenancy.gate import Access
from tests.conftest import ROOT

PATH = "/.well-known/security.txt"


def test_security_txt_is_public_plain_text_with_the_fields_rfc_9116_asks_for(
    api: ApiClient,
) -> None:
    """Given no token at all, when a caller asks for /.well-known/security.txt, then the
    answer is 200 text/plain with Contact, Expires (ahead, within a year), Policy (https)
    and Preferred-Languages, each a 'Name: value' line."""
    response = api.get(PATH)

    assert response.status == 200
    assert response.headers["content-type"] == "text/plain; charset=utf-8"
    fields = dict(line.split(": ", 1) for line in response.text.splitlines())
    assert set(fields) == {"Contact", "Expires", "Policy", "Preferred-Languages"}
    assert fields["Contact"].startswith("mailto:")
    assert fields["Policy"].startswith("https://")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", fields["Expires"])
    expires = dt.datetime.fromisoformat(fields["Expires"])
    now = dt.datetime.now(dt.UTC)
    assert now < expires < now + dt.timedelta(days=365)
    document = SecurityTxt.model_validate_json(response.body)
    assert document.contact == [security_txt.CONTACT]


def test_security_txt_is_an_ordinary_public_route_without_a_database() -> None:
    """Given its declaration, then it is public (no JWT authorizer) and opens no database
    connection, so it answers whatever state the database is in."""
    spec = security_txt.handler.spec

    assert spec.access is Access.PUBLIC
    assert spec.database is None
    assert spec.needs == frozenset()


def test_security_md_names_the_published_contact_and_promises() -> None:
    """Given SECURITY.md, then it names the address security.txt publishes, asks for a proof
    of concept, promises an answer within 48 hours and credit on request."""
    policy = (ROOT / "SECURITY.md").read_text()

    assert security_txt.CONTACT.removeprefix("mailto:") in policy
    assert "proof of concept" in policy
    assert "within 48 hours" in policy
    assert "credit you on request" in policy
