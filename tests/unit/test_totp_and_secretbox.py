"""TOTP codes are single-use; sealed secrets open only for their own row."""

from __future__ import annotations

import base64
import os

import pyotp
import pytest

from auth.secretbox import SecretBox, SecretBoxError
from auth.totp import hash_recovery_code, matching_step, new_recovery_codes, new_secret

NOW = 1_790_000_000.0
STEP = int(NOW // 30)


def code_at(secret: str, step: int) -> str:
    return str(pyotp.TOTP(secret).at(step * 30))


def test_a_current_code_matches_its_step_once() -> None:
    secret = new_secret()
    code = code_at(secret, STEP)

    first = matching_step(secret, code, last_used_step=None, now=NOW)
    again = matching_step(secret, code, last_used_step=first, now=NOW)

    assert first == STEP
    assert again is None


def test_an_older_code_is_refused_once_a_newer_one_was_used() -> None:
    secret = new_secret()

    assert matching_step(secret, code_at(secret, STEP - 1), last_used_step=STEP, now=NOW) is None


@pytest.mark.parametrize("offset", [-2, 2])
def test_codes_outside_the_window_are_refused(offset: int) -> None:
    secret = new_secret()

    assert (
        matching_step(secret, code_at(secret, STEP + offset), last_used_step=None, now=NOW) is None
    )


@pytest.mark.parametrize(
    "code",
    ["12345", "1234567", "abcdef", "", "12 456", "١٢٣٤٥٦", "\uff11\uff12\uff13\uff14\uff15\uff16"],
)
def test_malformed_codes_are_refused(code: str) -> None:
    assert matching_step(new_secret(), code, last_used_step=None, now=NOW) is None


def test_recovery_codes_are_ten_distinct_and_hash_the_same_however_typed() -> None:
    codes = new_recovery_codes()

    assert len(set(codes)) == 10
    assert hash_recovery_code(codes[0]) == hash_recovery_code(codes[0].upper().replace("-", " "))
    assert hash_recovery_code(codes[0]) != hash_recovery_code(codes[1])


def box(*ids: str) -> tuple[SecretBox, dict[str, bytes]]:
    keys = {key_id: os.urandom(32) for key_id in ids}
    setting = ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in keys.items())
    return SecretBox.from_setting(setting), keys


def test_a_sealed_secret_opens_for_its_own_row_only() -> None:
    secrets_box, _ = box("k1")
    sealed = secrets_box.seal(b"JBSWY3DP", associated_data=b"user-1")

    assert secrets_box.open(sealed, associated_data=b"user-1") == b"JBSWY3DP"
    with pytest.raises(SecretBoxError):
        secrets_box.open(sealed, associated_data=b"user-2")


def test_a_tampered_secret_does_not_open() -> None:
    secrets_box, _ = box("k1")
    sealed = secrets_box.seal(b"JBSWY3DP", associated_data=b"user-1")
    version, key_id, nonce, ciphertext = sealed.split(".")
    flipped = ("A" if ciphertext[0] != "A" else "B") + ciphertext[1:]

    with pytest.raises(SecretBoxError):
        secrets_box.open(".".join([version, key_id, nonce, flipped]), associated_data=b"user-1")


def test_secrets_sealed_with_an_old_key_open_after_rotation() -> None:
    old_box, keys = box("k0")
    sealed = old_box.seal(b"JBSWY3DP", associated_data=b"user-1")
    new_key = base64.b64encode(os.urandom(32)).decode()
    rotated = SecretBox.from_setting(f"k1:{new_key},k0:{base64.b64encode(keys['k0']).decode()}")

    assert rotated.open(sealed, associated_data=b"user-1") == b"JBSWY3DP"
    assert rotated.seal(b"x", associated_data=b"u").split(".")[1] == "k1"
