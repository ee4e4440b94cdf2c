"""OpenID Connect Core for the code flow: the openid scope yields an ID token signed by the
issuer's KMS key, a UserInfo endpoint answers for it, and the discovery document states only
what is true. Access tokens stay RFC 9068's."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import jwt
import psycopg
import pytest

from auth.config import Issuer
from infra.local.client import ApiClient
from infra.local.keys import LOCAL_ISSUER
from infra.local.seed import SPA_CLIENT_ID, USER
from infra.template import load_template, template_routes
from tenancy.permissions import Role
from tests.support.demo_users import account_id, attach, copy_of_demo_user
from tests.support.oauth import Started, answer_mfa, authorize, exchange, refresh
from tests.support.second_factor import Enrolled, new_venue, require_mfa_for_admins


@pytest.fixture
def account(admin_db: psycopg.Connection) -> str:
    return copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)


def tokens_for(api: ApiClient, email: str, **params: str) -> dict[str, Any]:
    step = authorize(api, email, **params)
    response = exchange(api, Started(step.code, step.verifier))
    assert response.status == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def verified(issuer: Issuer, id_token: str, audience: str = SPA_CLIENT_ID) -> dict[str, Any]:
    """The ID token's claims, its signature checked against the issuer's published keys."""
    jwks = jwt.PyJWKSet.from_dict(issuer.signer.jwks())
    key = jwks[jwt.get_unverified_header(id_token)["kid"]]
    claims: dict[str, Any] = jwt.decode(
        id_token, key.key, algorithms=["ES256"], audience=audience, issuer=LOCAL_ISSUER
    )
    return claims


def test_the_openid_scope_yields_an_id_token(api: ApiClient, issuer: Issuer, account: str) -> None:
    """Given a sign-in that asks for openid with a nonce, when the code is exchanged, then
    the answer has an ID token: ES256 by the issuer's key, for the client alone, naming the
    person, the nonce, when and how they signed in, and the hash of the access token."""
    tokens = tokens_for(api, account, scope="openid account venue", nonce="n-0S6_WzA2Mj")

    header = jwt.get_unverified_header(tokens["id_token"])
    claims = verified(issuer, tokens["id_token"])
    access = jwt.decode(tokens["access_token"], options={"verify_signature": False})
    digest = hashlib.sha256(tokens["access_token"].encode()).digest()[:16]
    assert (header["alg"], header["typ"]) == ("ES256", "JWT")
    assert claims["sub"] == access["sub"]
    assert claims["nonce"] == "n-0S6_WzA2Mj"
    assert claims["amr"] == ["pwd"]
    assert claims["acr"] == "urn:venue:loa:1"
    assert claims["auth_time"] == access["auth_time"]
    assert claims["sid"] == access["sid"]
    assert claims["at_hash"] == base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
    assert claims["exp"] - claims["iat"] <= 900
    assert tokens["scope"] == "openid account venue"
    assert jwt.get_unverified_header(tokens["access_token"])["typ"] == "at+jwt"


def test_a_second_factor_shows_in_the_id_token(
    api: ApiClient, issuer: Issuer, enrolled_account: Enrolled
) -> None:
    """Given an enrolled account, when it signs in with its code asking for openid, then
    the ID token says pwd and otp, level 2."""
    step = authorize(api, enrolled_account.email, scope="openid")
    done = answer_mfa(step, code=enrolled_account.totp.now())
    tokens = exchange(api, Started(done.code, done.verifier)).json()

    claims = verified(issuer, tokens["id_token"])
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == "urn:venue:loa:2"
    assert "nonce" not in claims


def test_without_openid_there_is_no_id_token_and_a_refresh_issues_none(
    api: ApiClient, account: str
) -> None:
    """Given a sign-in without openid, then no ID token is issued (nor a null one); a
    refresh of an openid session issues none either."""
    plain = tokens_for(api, account)
    with_openid = tokens_for(api, account, scope="openid account")

    refreshed = refresh(api, with_openid["refresh_token"]).json()

    assert "id_token" not in plain
    assert "id_token" not in refreshed


def test_an_id_token_opens_no_route(api: ApiClient, account: str) -> None:
    """Given a real ID token of the issuer, when it is sent as a bearer token, then the
    gateway's authorizer and the gate refuse it (its audience is the client, its type not
    an access token's)."""
    id_token = tokens_for(api, account, scope="openid account venue")["id_token"]

    response = api.get("/me", token=id_token)

    assert response.status == 401


def test_userinfo_answers_what_the_scopes_open(api: ApiClient, account: str) -> None:
    """Given tokens of a sign-in with openid (and email, or profile too), then UserInfo by GET
    and by POST names the subject and, as the scopes allow, the email and the name; absent
    claims are left out, not null."""
    only = tokens_for(api, account, scope="openid")
    full = tokens_for(api, account, scope="openid email profile account")
    subject = jwt.decode(only["access_token"], options={"verify_signature": False})["sub"]

    bare = api.get("/oauth/userinfo", token=only["access_token"])
    rich = api.request("POST", "/oauth/userinfo", token=full["access_token"])

    assert bare.status == 200, bare.text
    assert bare.json() == {"sub": subject}
    assert rich.status == 200, rich.text
    assert rich.json() == {
        "sub": subject,
        "email": account,
        "name": "Copy of Luca (waiter, centrale)",
    }


def test_userinfo_needs_the_openid_scope(api: ApiClient, account: str) -> None:
    """Given an access token without openid, then UserInfo refuses it (403
    insufficient-scope); without any token, 401."""
    tokens = tokens_for(api, account)

    refused = api.get("/oauth/userinfo", token=tokens["access_token"])

    assert refused.status == 403
    assert refused.json()["code"] == "insufficient-scope"
    assert api.get("/oauth/userinfo").status == 401


def test_the_discovery_document_states_only_what_is_true(api: ApiClient) -> None:
    """Given the discovery document, then every endpoint it names is a route the API serves,
    what it says the issuer supports is what the issuer does, and the members whose default
    would claim more are stated false."""
    document = api.get("/.well-known/openid-configuration").json()
    served = {(r.method, r.path) for r in template_routes(load_template())}

    assert document["issuer"] == LOCAL_ISSUER
    for name, method in (
        ("authorization_endpoint", "GET"),
        ("token_endpoint", "POST"),
        ("userinfo_endpoint", "GET"),
        ("revocation_endpoint", "POST"),
        ("jwks_uri", "GET"),
    ):
        assert (method, document[name].removeprefix(LOCAL_ISSUER)) in served, name
    assert document["response_types_supported"] == ["code"]
    assert document["code_challenge_methods_supported"] == ["S256"]
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert "openid" in document["scopes_supported"]
    assert document["authorization_response_iss_parameter_supported"] is True
    assert document["request_uri_parameter_supported"] is False
    assert document["request_parameter_supported"] is False
    assert document["claims_parameter_supported"] is False
    assert "password" not in document["grant_types_supported"]
    assert "implicit" not in document["grant_types_supported"]


def test_a_session_that_must_enrol_keeps_its_openid_scope(
    api: ApiClient, admin_db: psycopg.Connection, account: str
) -> None:
    """Given a person asking for openid who must enrol a second factor (a manager at a
    venue requiring one), then the API scopes are narrowed to enrolment but openid stays:
    the ID token still says who signed in."""
    venue = new_venue(admin_db)
    attach(admin_db, account_id(admin_db, account), venue, Role.MANAGER)
    require_mfa_for_admins(admin_db, venue, True)

    tokens = tokens_for(api, account, scope="openid account venue")

    assert tokens["scope"] == "openid mfa-enrolment"
    assert tokens["id_token"]
