"""tenancy.sealing (sealed rows, keyed identities) and the diners' keys as a deployed
function reads them: from Secrets Manager (moto's, in this process)."""

from __future__ import annotations

import base64
import os

import pytest

from auth.secretbox import SecretBox
from customers.config import DinerKeys
from customers.models import normalise_email, normalise_phone
from tenancy.sealing import IdentityKey, SealedBox, SealingError, key_id_of


def setting(**keys: bytes) -> str:
    return ",".join(f"{k}:{base64.b64encode(v).decode()}" for k, v in keys.items())


def test_a_sealed_record_opens_for_its_own_row_only_and_names_its_key() -> None:
    """Given a box, when a record is sealed for one row, then it opens for that row only,
    and its text names the key it was sealed with."""
    box = SealedBox.from_setting(setting(k1=os.urandom(32)))
    sealed = box.seal(b"milk", associated_data=b"diner/1/venue/a")

    assert box.open(sealed, associated_data=b"diner/1/venue/a") == b"milk"
    assert key_id_of(sealed) == "k1"
    assert b"milk" not in sealed.encode()
    for elsewhere in (b"diner/2/venue/a", b"diner/1/venue/b"):
        with pytest.raises(SealingError):
            box.open(sealed, associated_data=elsewhere)


def test_resealing_moves_a_record_to_the_active_key_and_keeps_it() -> None:
    """Given a record under k0, when a box listing k1 first re-seals it, then it is under k1
    and opens to the same bytes; re-sealing again leaves it as it is."""
    k0 = os.urandom(32)
    sealed = SealedBox.from_setting(setting(k0=k0)).seal(b"eggs", associated_data=b"r")
    rotated = SealedBox.from_setting(setting(k1=os.urandom(32), k0=k0))

    resealed = rotated.reseal(sealed, associated_data=b"r")

    assert key_id_of(resealed) == "k1"
    assert rotated.open(resealed, associated_data=b"r") == b"eggs"
    assert rotated.reseal(resealed, associated_data=b"r") == resealed


def test_the_format_is_the_issuers() -> None:
    """Given the same keys, what auth.secretbox sealed opens with tenancy.sealing (so the
    issuer's copy can move onto it)."""
    keys = setting(k1=os.urandom(32))
    sealed = SecretBox.from_setting(keys).seal(b"JBSWY3DP", associated_data=b"user-1")

    assert SealedBox.from_setting(keys).open(sealed, associated_data=b"user-1") == b"JBSWY3DP"


def test_identities_are_keyed_and_stable() -> None:
    """Given one salt, the same normalised contact gives the same identity, another salt or
    another kind a different one."""
    salt = os.urandom(32)
    one, other = IdentityKey(salt), IdentityKey(os.urandom(32))
    email = normalise_email("  Ada@Example.COM")

    assert one.identity("email", email) == IdentityKey(salt).identity("email", "ada@example.com")
    assert one.identity("email", email) != other.identity("email", email)
    assert one.identity("email", email) != one.identity("phone", email)
    assert normalise_phone("0039 (333) 123-4567") == normalise_phone("+393331234567")
    with pytest.raises(ValueError, match="at least 32 bytes"):
        IdentityKey(b"short")


def test_diner_keys_come_from_secrets_manager_each_on_first_use(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given the two secrets in (moto's) Secrets Manager and only their ARNs in the
    environment, when a function builds its diner keys and makes an identity, then the salt
    is read and the app keys are not yet; they are read when first used."""
    import boto3
    from moto import mock_aws

    monkeypatch.setenv("AWS_DEFAULT_REGION", "eu-south-1")
    with mock_aws():
        secrets = boto3.client("secretsmanager")
        app_keys = secrets.create_secret(Name="app-keys", SecretString=setting(k1=os.urandom(32)))
        salt = secrets.create_secret(
            Name="identity-salt", SecretString=base64.b64encode(os.urandom(32)).decode()
        )
        monkeypatch.setenv("IDENTITY_SALT_SECRET_ARN", salt["ARN"])
        monkeypatch.setenv("APP_KEYS_SECRET_ARN", app_keys["ARN"])
        keys = DinerKeys.from_environment()

        identity = keys.identity.identity("email", "a@b.example")
        box_read_yet = keys._box is not None
        box = keys.box

    assert len(identity) == 32
    assert box_read_yet is False
    assert box.active_key_id == "k1"
