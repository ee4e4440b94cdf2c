"""argon2id hashing and the password policy, rule by rule."""

from __future__ import annotations

import secrets
import string

import pytest

from auth.breaches import BreachChecker
from auth.passwords import (
    MAX_PASSWORD_LENGTH,
    POLICY_RULES,
    check_password_policy,
    hash_password,
    needs_rehash,
    verify_password,
)
from tenancy.problems import Problem


class FakeCorpus:
    """A range client that knows one breached password's SHA-1 and records what it is asked."""

    def __init__(self, breached: str) -> None:
        import hashlib

        self.digest = hashlib.sha1(breached.encode()).hexdigest().upper()  # noqa: S324
        self.asked: list[str] = []

    def range(self, prefix: str) -> str:
        self.asked.append(prefix)
        return f"{self.digest[5:]}:42" if self.digest.startswith(prefix) else ""


def strong(length: int) -> str:
    alphabet = string.ascii_letters + string.digits + "!@#-_"
    body = "".join(secrets.choice(alphabet) for _ in range(length - 4))
    return "Aa1!" + body


CHECKER = BreachChecker(FakeCorpus("Correct-Horse-9!"), "refuse")


@pytest.mark.parametrize(
    ("password", "privileged", "rule"),
    [
        ("Sh0rt!pass", True, "too-short"),
        ("tiny1", False, "too-short"),
        ("Aa1!" + "x" * MAX_PASSWORD_LENGTH, True, "too-long"),
        ("nouppercase-2026-pass", True, "needs-uppercase"),
        ("NOLOWERCASE-2026-PASS", True, "needs-lowercase"),
        ("No-Digits-In-This-One", True, "needs-digit"),
        ("NoSymbolsInThis2026x", True, "needs-symbol"),
        ("Correct-Horse-9!", True, "breached"),
        ("Correct-Horse-9!", False, "breached"),
    ],
)
def test_each_rule_refuses_with_its_own_rule_and_message(
    password: str, privileged: bool, rule: str
) -> None:
    with pytest.raises(Problem) as refused:
        check_password_policy(password, privileged=privileged, breaches=CHECKER)

    assert refused.value.status == 422
    assert refused.value.extra["rule"] == rule
    assert password not in str(refused.value.body())


def test_every_rule_has_a_distinct_message() -> None:
    messages = {}
    for password, rule in [
        ("Sh0rt!pass", "too-short"),
        ("nouppercase-2026-pass", "needs-uppercase"),
        ("NOLOWERCASE-2026-PASS", "needs-lowercase"),
        ("No-Digits-In-This-One", "needs-digit"),
        ("NoSymbolsInThis2026x", "needs-symbol"),
        ("Correct-Horse-9!", "breached"),
    ]:
        with pytest.raises(Problem) as refused:
            check_password_policy(password, privileged=True, breaches=CHECKER)
        messages[rule] = refused.value.detail

    assert len(set(messages.values())) == len(messages)
    assert set(messages) <= set(POLICY_RULES)


def test_ordinary_accounts_need_length_but_not_character_classes() -> None:
    check_password_policy("long enough words", privileged=False, breaches=CHECKER)


@pytest.mark.parametrize("length", [128, MAX_PASSWORD_LENGTH])
def test_long_passwords_are_accepted_and_not_truncated(length: int) -> None:
    password = strong(length)
    check_password_policy(password, privileged=True, breaches=CHECKER)

    stored = hash_password(password)

    assert verify_password(stored, password)
    assert not verify_password(stored, password[:-1])


def test_hashes_are_argon2id_with_at_least_owasps_parameters() -> None:
    stored = hash_password("Some-Password-2026")

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert not needs_rehash(stored)
    assert verify_password(stored, "Some-Password-2026")
    assert not verify_password(stored, "some-password-2026")
    assert not verify_password("not a hash", "Some-Password-2026")


def test_only_a_five_character_prefix_leaves_the_process() -> None:
    corpus = FakeCorpus("Correct-Horse-9!")

    BreachChecker(corpus, "refuse").is_breached("Correct-Horse-9!")

    assert corpus.asked == [corpus.digest[:5]]
