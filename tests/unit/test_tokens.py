"""The gate's own token checks: each attack is refused with a 401 problem."""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pytest

from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tenancy.problems import Problem
from tenancy.tokens import StaticKeySource, TokenVerifier
from tests.token_attacks import attacks

KEY = SigningKey.generate()
USER_ID = uuid.uuid4()
ATTACKS = attacks(KEY, USER_ID)


def verifier() -> TokenVerifier:
    return TokenVerifier(
        issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(KEY.jwks())
    )


@pytest.mark.parametrize("make_token", ATTACKS.values(), ids=ATTACKS.keys())
def test_forged_or_unfit_tokens_are_refused(make_token: Callable[[], str]) -> None:
    with pytest.raises(Problem) as refused:
        verifier().verify(make_token())

    assert refused.value.status == 401
    assert refused.value.code == "unauthenticated"


def test_a_valid_access_token_names_its_user() -> None:
    identity = verifier().verify(KEY.access_token(USER_ID, scope="venue orders"))

    assert identity.user_id == USER_ID
    assert identity.scopes == frozenset({"venue", "orders"})


def test_a_deeply_nested_header_is_refused_as_malformed() -> None:
    """Given a token whose JOSE header is JSON nested 100 000 deep, then verification is a
    401 problem, not a RecursionError."""
    import base64

    header = base64.urlsafe_b64encode(b'{"a":' * 100_000).rstrip(b"=").decode()

    with pytest.raises(Problem) as refused:
        verifier().verify(f"{header}.e30.c2ln")

    assert refused.value.status == 401
    assert refused.value.code == "unauthenticated"
