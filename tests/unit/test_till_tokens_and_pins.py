"""What a till's tokens say to the gate, how a route opens itself to tills, and what a PIN
and its digest are (tenancy.tokens, tenancy.spec, tenancy.pins)."""

from __future__ import annotations

import base64
import uuid
from typing import Any

import pytest

from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from tenancy import DbRole, NoBody, NoQuery, Request, device_route, user_route, venue_route
from tenancy.pins import PinPepper, is_pin
from tenancy.problems import Problem
from tenancy.tokens import StaticKeySource, TillSession, TokenVerifier

KEY = SigningKey.generate()
VENUE = uuid.uuid4()
STAFF = uuid.uuid4()
SESSION = uuid.uuid4()
PEPPER = "k1:" + base64.b64encode(b"p" * 32).decode()


def verify(subject: str | uuid.UUID, **claims: Any) -> Any:
    verifier = TokenVerifier(
        issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=StaticKeySource(KEY.jwks())
    )
    return verifier.verify(KEY.access_token(subject, **claims))


def session_claims(**overrides: Any) -> dict[str, Any]:
    return {
        "client_id": "till-centrale-1",
        "scope": "till-session",
        "sid": str(SESSION),
        "venue": str(VENUE),
        "staff": str(STAFF),
    } | overrides


def test_a_till_device_token_names_the_device_and_no_account() -> None:
    """Given the client-credentials token of a till (subject and client the device), when it
    is verified, then the identity is the device: no account, no session."""
    identity = verify("till-centrale-1", client_id="till-centrale-1", scope="till")

    assert identity.user_id is None
    assert identity.is_till_device
    assert identity.client_id == "till-centrale-1"
    assert identity.session_id is None
    assert identity.till_session is None


def test_a_till_session_token_names_its_session_venue_and_staff_member() -> None:
    """Given a till session's token, when it is verified, then it names the till session,
    its venue and its staff member, and no account."""
    identity = verify(STAFF, **session_claims())

    assert identity.user_id is None
    assert not identity.is_till_device
    assert identity.session_id == SESSION
    assert identity.till_session == TillSession(VENUE, STAFF)


UNFIT = {
    "device token naming another subject": ("till-nord-1", {"scope": "till"}),
    "device token with a session": ("till-centrale-1", {"scope": "till", "sid": str(SESSION)}),
    "device scope mixed with a person's": ("till-centrale-1", {"scope": "till venue"}),
    "till session mixed with a person's scope": (STAFF, session_claims(scope="till-session venue")),
    "till session without a venue": (STAFF, session_claims(venue="nowhere")),
    "till session without a session": (STAFF, session_claims(sid="x")),
    "till session of another subject": (uuid.uuid4(), session_claims()),
    "till session without a client": (STAFF, session_claims(client_id="")),
}


@pytest.mark.parametrize(("subject", "claims"), UNFIT.values(), ids=UNFIT.keys())
def test_an_unfit_till_token_is_refused(subject: str | uuid.UUID, claims: dict[str, Any]) -> None:
    """Given a signed token that bends a till token's shape, when it is verified, then it is
    a 401 problem."""
    claims = {"client_id": "till-centrale-1", **claims}

    with pytest.raises(Problem) as refused:
        verify(subject, **claims)

    assert (refused.value.status, refused.value.code) == (401, "unauthenticated")


def _body(request: Request[NoQuery, NoBody]) -> None:
    return None


def test_a_venue_route_declared_for_tills_takes_till_sessions_too() -> None:
    """Given a venue route declared till=True and one without, then the first accepts the
    till-session scope besides the venue scope, and the second the venue scope only."""
    open_to_tills = venue_route("GET", "/venues/{venue_id}/x", summary="x", till=True)(_body)
    people_only = venue_route("GET", "/venues/{venue_id}/y", summary="y")(_body)

    assert open_to_tills.spec.accepted_scopes == {"venue", "till-session"}
    assert people_only.spec.accepted_scopes == {"venue"}
    assert people_only.spec.till is False


def test_a_device_route_takes_the_till_scope_as_the_issuer() -> None:
    """Given a route declared with device_route as the issuer, then the till's device scope
    is the one scope it accepts."""
    route = device_route("POST", "/venues/{venue_id}/z", summary="z", database=DbRole.ISSUER)(_body)

    assert route.spec.accepted_scopes == {"till"}


@pytest.mark.parametrize(
    "declare",
    [
        lambda: user_route("GET", "/me/x", summary="x", till=True),
        lambda: venue_route(
            "GET", "/venues/{venue_id}/x", summary="x", till=True, database=DbRole.ISSUER
        ),
        lambda: device_route("POST", "/venues/{venue_id}/x", summary="x"),
        lambda: device_route("POST", "/tills/x", summary="x", database=DbRole.ISSUER),
        lambda: venue_route("GET", "/venues/{venue_id}/x", summary="x", scope="till"),
    ],
    ids=[
        "an account route for tills",
        "a till route as the issuer",
        "a device route as the venue role",
        "a device route outside a venue",
        "a venue route taking device tokens",
    ],
)
def test_till_declarations_that_make_no_sense_are_refused(declare: Any) -> None:
    """Given a declaration that opens an account route to tills, a till route as the
    issuer, a device route as the venue role or outside a venue, or a venue route to device
    tokens, when it is declared, then it is refused."""
    with pytest.raises(ValueError, match=r"till|device|venue"):
        declare()


@pytest.mark.parametrize(
    ("value", "valid"),
    [
        ("1234", True),
        ("12345678", True),
        ("123", False),
        ("123456789", False),
        ("12a4", False),
        (" 1234", False),
        ("١٢٣٤", False),  # Arabic-Indic digits: str.isdigit() says yes, a keypad has none
        ("1234\n", False),
    ],
)
def test_a_pin_is_four_to_eight_ascii_digits(value: str, valid: bool) -> None:
    """Given a candidate PIN, then it is one only when it is 4 to 8 ASCII digits."""
    assert is_pin(value) is valid


def test_a_pin_digest_is_keyed_by_the_venue_and_the_pepper() -> None:
    """Given the same PIN at two venues, and under two peppers, then every digest differs;
    the same PIN at the same venue under the same pepper gives the same digest."""
    pepper = PinPepper.from_setting(PEPPER)
    other = PinPepper.from_setting("k2:" + base64.b64encode(b"q" * 32).decode())
    here, there = uuid.uuid4(), uuid.uuid4()

    digest = pepper.digests(here, "1234")[0]

    assert digest == pepper.digests(here, "1234")[0]
    assert digest.digest != pepper.digests(there, "1234")[0].digest
    assert digest.digest != other.digests(here, "1234")[0].digest
    assert len(digest.digest) == 32
    assert "1234" not in repr(digest)


def test_a_rotated_pepper_digests_under_every_key_the_active_first() -> None:
    """Given a pepper with a new key in front of the old one, when a PIN is digested, then
    it is digested under both, the new key's first (old PINs still match; new ones use it)."""
    pepper = PinPepper.from_setting(PEPPER.replace("k1", "new") + "," + PEPPER)

    assert [d.key_id for d in pepper.digests(VENUE, "0000")] == ["new", "k1"]


@pytest.mark.parametrize("setting", ["k1:" + base64.b64encode(b"short").decode(), "K!:AAAA"])
def test_a_weak_or_malformed_pepper_is_refused(setting: str) -> None:
    """Given a pepper key shorter than 32 bytes, or with an id that is not lower-case
    letters and digits, when it is read, then it is refused."""
    with pytest.raises(ValueError, match="32 to 64 bytes"):
        PinPepper.from_setting(setting)


def test_a_digest_of_something_that_is_not_a_pin_is_refused() -> None:
    """Given something that is not a PIN, when it is digested, then it is refused rather
    than digested (nothing but a PIN can match one)."""
    with pytest.raises(ValueError, match="ASCII digits"):
        PinPepper.from_setting(PEPPER).digests(VENUE, "12a4")
