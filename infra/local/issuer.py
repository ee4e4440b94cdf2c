"""The platform's OAuth2 issuer as it runs on this machine, for `make dev`, the tests and the
benchmarks: the real ``auth.config.Issuer``, its access tokens signed by a key in moto's KMS,
sealed secrets under the local app keys, and new passwords checked against the local breach
corpus (infra/local/pwned-passwords.txt), so nothing reaches the internet.

Never deployed: infra/ is not part of any function's code or layer.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from auth.config import Issuer
from auth.settings import IssuerSettings
from infra.local.aws import REGION, create_signing_key
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER
from infra.local.seed import LOCAL_APP_KEYS
from tenancy.mail import Mailer

__all__ = ["BREACH_CORPUS", "in_memory_issuer", "local_issuer"]

#: The local stand-in for Have-I-Been-Pwned's range API.
BREACH_CORPUS = Path(__file__).resolve().with_name("pwned-passwords.txt")


def local_issuer(
    kms: Any,
    *,
    token_issuer: str = LOCAL_ISSUER,
    signing_key_id: str | None = None,
    mailer: Mailer | None = None,
) -> Issuer:
    """The issuer, signing with ``signing_key_id`` in ``kms`` (a new key when omitted), its
    mail handed to ``mailer`` (a local mailbox: nothing leaves the machine)."""
    return Issuer.from_settings(
        IssuerSettings(
            token_issuer=token_issuer,
            token_audience=LOCAL_AUDIENCE,
            token_signing_key_ids=signing_key_id or create_signing_key(kms),
            app_keys=LOCAL_APP_KEYS,
            breach_corpus=str(BREACH_CORPUS),
            mail_from="no-reply@venue-platform.example",
        ),
        kms,
        mailer=mailer,
    )


@contextmanager
def in_memory_issuer(
    token_issuer: str = LOCAL_ISSUER, *, mailer: Mailer | None = None
) -> Iterator[Issuer]:
    """The issuer with KMS emulated inside this process (moto's ``mock_aws``), for as long
    as the block runs: what the tests and the benchmarks sign with."""
    import boto3
    from moto import mock_aws

    with mock_aws():
        yield local_issuer(
            boto3.client("kms", region_name=REGION), token_issuer=token_issuer, mailer=mailer
        )
