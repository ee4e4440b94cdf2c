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


class Clock:
    def __init__(self) -> None:
        self.now = 1_000_000.0

    def __call__(self) -> float:
        return self.now


class CountingKeys(StaticKeySource):
    """Counts how often a signature had to be checked (each check looks its key up)."""

    def __init__(self) -> None:
        super().__init__(KEY.jwks())
        self.lookups = 0

    def key_for(self, kid: str) -> object:
        self.lookups += 1
        return super().key_for(kid)


def caching_verifier(clock: Clock, keys: CountingKeys, size: int = 1024) -> TokenVerifier:
    return TokenVerifier(
        issuer=LOCAL_ISSUER,
        audience=LOCAL_AUDIENCE,
        keys=keys,
        clock=clock,
        cache_seconds=60,
        cache_size=size,
    )


def test_a_verified_token_is_remembered_for_at_most_a_minute() -> None:
    """Given a token verified once, when it comes back within 60 s its signature is not
    checked again; after 60 s it is."""
    clock, keys = Clock(), CountingKeys()
    verify = caching_verifier(clock, keys).verify
    token = KEY.access_token(USER_ID)

    first = verify(token)
    clock.now += 59
    again = verify(token)
    lookups_within_a_minute = keys.lookups
    clock.now += 2
    verify(token)

    assert again == first
    assert lookups_within_a_minute == 1
    assert keys.lookups == 2


def test_a_remembered_token_is_checked_again_after_its_exp() -> None:
    """Given a token with 10 s left, the cache does not outlive it: past its exp the token
    goes through the full check again (which refuses an expired token)."""
    import time

    clock, keys = Clock(), CountingKeys()
    clock.now = time.time()
    verify = caching_verifier(clock, keys).verify
    token = KEY.access_token(USER_ID, lifetime=10)
    verify(token)
    clock.now += 9
    verify(token)
    within = keys.lookups

    clock.now += 2
    verify(token)

    assert within == 1
    assert keys.lookups == 2


def test_the_cache_is_bounded() -> None:
    """Given a cache of two, a third token evicts the least recently used."""
    clock, keys = Clock(), CountingKeys()
    verify = caching_verifier(clock, keys, size=2).verify
    first, second, third = (KEY.access_token(uuid.uuid4()) for _ in range(3))
    verify(first), verify(second), verify(third)
    before = keys.lookups

    verify(third), verify(second)
    unchanged = keys.lookups
    verify(first)

    assert unchanged == before
    assert keys.lookups == before + 1
