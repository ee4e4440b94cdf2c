"""Each issuer route reaches only what its function is granted in AWS.

A deployed function holds exactly the grants its route declares (``needs``, written into
template.yaml by `make template`). These tests run the routes with only those grants and
see what they reach.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import urlencode, urlsplit

import psycopg
import pytest

from auth.config import Issuer
from auth.settings import IssuerSettings
from infra.local.client import ApiClient, Response
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER
from infra.local.mailbox import LocalMailbox
from infra.local.seed import DEMO_PASSWORD, DEMO_PINS, NORD, SPA_CLIENT_ID, USER
from infra.local.signin import (
    Answer,
    Browser,
    authorization_query,
    code_exchange,
    new_verifier,
    redirect_params,
)
from tenancy import Need
from tenancy.catalogue import discover
from tenancy.pins import PinDigest, PinPepper
from tests.conftest import ROOT
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import FORM, through_gateway
from tests.support.tills import register_till

if TYPE_CHECKING:
    from auth.breaches import BreachChecker
    from auth.secretbox import SecretBox
    from auth.signing import KmsTokenSigner
    from tenancy.mail import Mailer

REGION = "eu-south-1"
#: This test's own address, so its refused codes count against no other test's limits.
SOURCE_IP = "192.0.2.61"


class GrantedKms:
    """A KMS client allowed only ``granted`` operations, as IAM would allow them; any other
    operation is refused, as AWS would refuse it."""

    def __init__(self, kms: Any, granted: set[str]) -> None:
        self._kms = kms
        self._granted = granted
        self.calls: list[str] = []

    def __getattr__(self, operation: str) -> Callable[..., Any]:
        if operation not in self._granted:
            raise PermissionError(f"AccessDenied: kms:{operation} is not granted")

        def call(**kwargs: Any) -> Any:
            self.calls.append(operation)
            return getattr(self._kms, operation)(**kwargs)

        return call


@pytest.fixture
def install(api: ApiClient, issuer: Issuer) -> Iterator[Callable[[Issuer], None]]:
    """Gives the runtime another issuer for one test; the session's comes back afterwards."""
    collaborators = api.gateway.runtime.collaborators

    def install(replacement: Issuer) -> None:
        collaborators[Issuer] = replacement

    yield install
    collaborators[Issuer] = issuer


def test_the_jwks_needs_only_the_public_keys(
    api: ApiClient, issuer: Issuer, install: Callable[[Issuer], None]
) -> None:
    """Given an issuer with no app keys (nor a secret to read them from) whose KMS grants
    only GetPublicKey, when the JWKS is fetched, then it lists the signing key, and KMS was
    asked for public keys only."""
    import boto3

    kms = GrantedKms(boto3.client("kms", region_name=REGION), {"get_public_key"})
    settings = IssuerSettings(
        token_issuer=LOCAL_ISSUER,
        token_audience=LOCAL_AUDIENCE,
        token_signing_key_ids=issuer.settings.token_signing_key_ids,
    )
    install(Issuer(settings, kms_client=lambda: kms))

    response = api.request("GET", "/.well-known/jwks.json")

    assert response.status == 200, response.text
    assert response.json()["keys"] == issuer.signer.jwks()["keys"]
    assert set(kms.calls) == {"get_public_key"}


def test_the_discovery_document_needs_nothing_from_aws(
    api: ApiClient, install: Callable[[Issuer], None]
) -> None:
    """Given an issuer with no signing keys, no app keys and no KMS client at all, when the
    discovery document is fetched, then it is served from the settings alone."""
    asked_for_kms: list[bool] = []

    def no_kms() -> object:
        asked_for_kms.append(True)
        raise PermissionError("this function has no KMS grant")

    settings = IssuerSettings(token_issuer=LOCAL_ISSUER, token_audience=LOCAL_AUDIENCE)
    install(Issuer(settings, kms_client=no_kms))

    response = api.request("GET", "/.well-known/openid-configuration")

    assert response.status == 200, response.text
    assert response.json()["issuer"] == LOCAL_ISSUER
    assert asked_for_kms == []


# --- every issuer route, with what it reaches -------------------------------------------------


class _Noting:
    """Stands in for ``target``, noting the name of every method called on it."""

    def __init__(self, target: object, note: Callable[[str], None]) -> None:
        self._target = target
        self._note = note

    def __getattr__(self, name: str) -> Any:
        attribute = getattr(self._target, name)
        if not callable(attribute):
            return attribute

        def call(*args: Any, **kwargs: Any) -> Any:
            self._note(name)
            return attribute(*args, **kwargs)

        return call


class ReachRecorder(Issuer):
    """The session's issuer, noting which needs each request reaches: the app keys when it
    opens the secret box, the breach corpus when it checks a password, the signing key when
    it signs and the public keys when it only publishes them, the mail when it sends one."""

    def __init__(self, real: Issuer) -> None:
        super().__init__(
            real.settings,
            signer=real.signer,
            breaches=real.breaches,
            secrets=real.secrets,
            mailer=real.mailer,
        )
        self.reached: set[Need] = set()

    def _signer_call(self, method: str) -> None:
        self.reached.add(Need.SIGNING_KEY if method == "sign" else Need.PUBLIC_KEYS)

    @property
    def signer(self) -> KmsTokenSigner:
        return cast("KmsTokenSigner", _Noting(super().signer, self._signer_call))

    @property
    def breaches(self) -> BreachChecker:
        self.reached.add(Need.BREACH_CORPUS)
        return super().breaches

    @property
    def secrets(self) -> SecretBox:
        self.reached.add(Need.APP_KEYS)
        return super().secrets

    @property
    def mailer(self) -> Mailer:
        self.reached.add(Need.MAIL)
        return super().mailer

    def take(self) -> frozenset[Need]:
        """What was reached since the last call (the signing key covers the public keys)."""
        reached = set(self.reached)
        self.reached.clear()
        if Need.SIGNING_KEY in reached:
            reached.discard(Need.PUBLIC_KEYS)
        return frozenset(reached)


class NotingPepper(PinPepper):
    """The runtime's PIN pepper, noting each use as the PIN pepper need."""

    def __init__(self, real: PinPepper, reached: set[Need]) -> None:
        self._real = real
        self._reached = reached

    def digests(self, venue_id: uuid.UUID, pin: str) -> list[PinDigest]:
        self._reached.add(Need.PIN_PEPPER)
        return self._real.digests(venue_id, pin)


@pytest.fixture
def note_pepper(api: ApiClient) -> Iterator[Callable[[set[Need]], None]]:
    """Has the runtime's PIN pepper note its uses into a set for one test."""
    collaborators = api.gateway.runtime.collaborators
    real = collaborators[PinPepper]

    def note(reached: set[Need]) -> None:
        collaborators[PinPepper] = NotingPepper(real, reached)

    yield note
    collaborators[PinPepper] = real


def _a_code_that_is_not_current(secret: str) -> str:
    """A well-formed TOTP code that matches none of the steps around now."""
    import time

    import pyotp

    totp = pyotp.TOTP(secret)
    around = {totp.at(time.time() + 30 * step) for step in range(-3, 4)}
    return next(code for code in ("000000", "111111", "222222", "333333") if code not in around)


def test_every_issuer_route_reaches_exactly_what_it_declares(
    api: ApiClient,
    issuer: Issuer,
    install: Callable[[Issuer], None],
    note_pepper: Callable[[set[Need]], None],
    admin_db: psycopg.Connection,
    mailbox: LocalMailbox,
) -> None:
    """Given accounts of its own and the issuer noting what each request reaches, when one
    signs in on the pages (asking for openid) and reads who it is, changes its password,
    enrols, confirms and fails to use an authenticator, signs in again and gives a wrong
    code, asks for a reset link and sets a password through it, accepts an invitation through
    its link, revokes its session and
    reads the issuer's documents, a platform admin without a second factor sets one up
    while signing in, and a till of its own gets its device token and opens a till session
    with a PIN, then each issuer route reached exactly the needs its declaration states:
    nothing undeclared (which AWS would refuse with a 500), and nothing declared in vain."""
    import pyotp

    till = register_till(api, NORD, manager="manager")
    recorder = ReachRecorder(issuer)
    install(recorder)
    note_pepper(recorder.reached)
    reached: dict[str, frozenset[Need]] = {}

    def noting(
        method: str, target: str, *, headers: Mapping[str, str], body: bytes = b""
    ) -> Answer:
        recorder.take()
        answer = through_gateway(api, SOURCE_IP)(method, target, headers=headers, body=body)
        route = f"{method} {urlsplit(target).path}"
        reached[route] = reached.get(route, frozenset()) | recorder.take()
        return answer

    def call(
        method: str, path: str, expected: int, *, route: str | None = None, **kwargs: Any
    ) -> Response:
        recorder.take()
        response = api.request(method, path, source_ip=SOURCE_IP, **kwargs)
        route = f"{method} {route or path}"
        reached[route] = reached.get(route, frozenset()) | recorder.take()
        assert response.status == expected, f"{method} {path}: {response.text}"
        return response

    def form(fields: dict[str, str]) -> dict[str, Any]:
        return {"body": urlencode(fields).encode(), "headers": FORM}

    def sign_in_page(browser: Browser, verifier: str) -> Answer:
        query = authorization_query(verifier, state="s", scope="openid email account venue")
        page = browser.get(query)
        assert page.status == 200, page.text
        return page

    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    password = f"Reach-{uuid.uuid4().hex[:12]}-7!"

    browser, verifier = Browser(noting), new_verifier()
    signed_in = browser.submit(
        sign_in_page(browser, verifier), {"email": email, "password": DEMO_PASSWORD}
    )
    exchange = code_exchange(redirect_params(signed_in)["code"], verifier)
    tokens = call("POST", "/oauth/token", 200, **form(exchange)).json()
    access = tokens["access_token"]
    call("GET", "/oauth/userinfo", 200, token=access)
    call("POST", "/oauth/userinfo", 200, token=access)

    change = {"current_password": DEMO_PASSWORD, "new_password": password}
    call("POST", "/me/password", 200, token=access, json_body=change)
    secret = call("POST", "/me/mfa/totp", 201, token=access).json()["secret"]
    confirm = {"code": pyotp.TOTP(secret).now()}
    call("POST", "/me/mfa/totp/confirm", 200, token=access, json_body=confirm)
    wrong = _a_code_that_is_not_current(secret)
    call("DELETE", "/me/mfa/totp", 422, token=access, json_body={"code": wrong})

    browser = Browser(noting)
    page = sign_in_page(browser, new_verifier())
    challenge = browser.submit(page, {"email": email, "password": password})
    refused = browser.submit(challenge, {"code": wrong}, action="/oauth/authorize/mfa")
    assert refused.status == 400, refused.text

    asked = browser.submit(page, {"email": email}, action="/oauth/password-reset")
    assert asked.status == 200, asked.text
    link = mailbox.last_link(email)
    assert link is not None
    reset_page = browser.get(link.removeprefix(LOCAL_ISSUER))
    assert reset_page.status == 200, reset_page.text
    new_password = f"Reset-{uuid.uuid4().hex[:12]}-8!"
    done = browser.submit(reset_page, {"password": new_password, "password_again": new_password})
    assert done.status == 200, done.text

    invited = f"reach-{uuid.uuid4().hex[:12]}@io-osteria.example"
    invitation = api.request(
        "POST",
        f"/venues/{NORD}/attachments",
        as_user=USER["manager"].id,
        json_body={"email": invited, "role": "waiter"},
    )
    assert invitation.status == 201, invitation.text
    invitation_link = mailbox.last_link(invited, kind="invitation")
    assert invitation_link is not None
    invitation_page = browser.get(invitation_link.removeprefix(LOCAL_ISSUER))
    assert invitation_page.status == 200, invitation_page.text
    chosen = f"Invited-{uuid.uuid4().hex[:12]}-9!"
    accepted = browser.submit(
        invitation_page, {"display_name": "Reach", "password": chosen, "password_again": chosen}
    )
    assert accepted.status == 200, accepted.text

    admin = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    admin_db.execute("UPDATE users SET is_platform_admin = true WHERE email = %s", (admin,))
    browser = Browser(noting)
    enrol = browser.submit(
        sign_in_page(browser, new_verifier()), {"email": admin, "password": DEMO_PASSWORD}
    )
    setup_key = re.search(r'<code class="secret">([A-Z2-7]+)</code>', enrol.text)
    assert setup_key is not None, enrol.text
    codes = browser.submit(enrol, {"code": pyotp.TOTP(setup_key.group(1)).now()})
    assert codes.status == 200, codes.text
    assert redirect_params(browser.submit(codes, {}))["code"]

    revocation = {"token": tokens["refresh_token"], "client_id": SPA_CLIENT_ID}
    call("POST", "/oauth/revoke", 200, **form(revocation))
    call("GET", "/.well-known/jwks.json", 200)
    call("GET", "/.well-known/openid-configuration", 200)

    credentials = {"client_id": till.client_id, "client_secret": till.client_secret}
    device = call(
        "POST", "/oauth/token", 200, **form({"grant_type": "client_credentials", **credentials})
    ).json()["access_token"]
    call(
        "POST",
        f"/venues/{NORD}/till-sessions",
        201,
        route="/venues/{venue_id}/till-sessions",
        token=device,
        json_body={"pin": DEMO_PINS["manager"]},
    )

    declared = {
        route.spec.route_key: route.spec.needs
        for route in discover(ROOT / "functions")
        if route.handler.startswith("auth.")
    }
    assert reached == declared
