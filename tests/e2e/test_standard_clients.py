"""Standard clients sign in against `make dev` over real HTTP, through discovery alone:
authlib's OpenID Connect client with a browser that runs no JavaScript (the sign-in form
posted as HTML forms are), and the same client with a real headless Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import urljoin, urlsplit

import psycopg
import pyotp
import pytest

from infra.local.seed import DEMO_PASSWORD, LOCAL_APP_KEYS, USER
from infra.local.signin import forms
from tests.support.browser import headless_chromium
from tests.support.demo_users import account_id, copy_of_demo_user
from tests.support.dev_stack import DevStack, dev_stack, free_port
from tests.support.relying_party import RelyingParty, relying_party

CLIENT_ID = "e2e-relying-party"


@pytest.fixture(scope="module")
def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(server_url, tmp_path_factory.mktemp("dev-state")) as running:
        yield running


@pytest.fixture(scope="module")
def party(stack: DevStack) -> Iterator[RelyingParty]:
    """The client app, registered with the stack's issuer for its own redirect URI."""
    port = free_port()
    with psycopg.connect(stack.admin_url, autocommit=True) as admin:
        admin.execute(
            "INSERT INTO oauth_clients (client_id, name, kind, redirect_uris)"
            " VALUES (%s, 'End-to-end client', 'spa', %s) ON CONFLICT (client_id)"
            " DO UPDATE SET redirect_uris = EXCLUDED.redirect_uris",
            (CLIENT_ID, [f"http://127.0.0.1:{port}/callback"]),
        )
    with relying_party(stack.url, CLIENT_ID, port) as running:
        yield running


def test_authlib_signs_in_through_discovery_with_forms_posted_as_html(
    stack: DevStack, party: RelyingParty
) -> None:
    """Given authlib's client configured from the discovery document only, and a browser
    that runs no script, when the person opens the client's login, gets the issuer's page,
    fills its form in and follows the redirects, then the client has exchanged the code with
    its PKCE verifier, checked the ID token against the issuer's JWKS (signature, iss, aud,
    nonce, at_hash) and read UserInfo: the same person, the second factor absent."""
    import requests

    browser = requests.Session()
    to_issuer = browser.get(f"{party.url}/login", allow_redirects=False)
    assert to_issuer.status_code == 302
    page = browser.get(to_issuer.headers["location"], allow_redirects=False)
    assert page.status_code == 200, page.text
    (form,) = [f for f in forms(page.text) if "password" in f.fields]
    answer = browser.post(
        urljoin(page.url, form.action),
        data={**form.fields, "email": USER["head_chef"].email, "password": DEMO_PASSWORD},
        allow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    assert answer.headers["location"].startswith(party.redirect_uri + "?")
    landed = browser.get(answer.headers["location"], allow_redirects=False)

    assert landed.status_code == 200, landed.text
    result = party.signed_in[-1]
    claims = result["id_token_claims"]
    assert claims["iss"] == stack.url
    assert claims["aud"] == CLIENT_ID
    assert claims["sub"] == str(USER["head_chef"].id) == result["userinfo"]["sub"]
    assert claims["amr"] == ["pwd"]
    assert result["userinfo"]["email"] == USER["head_chef"].email
    assert set(result["scope"].split()) == {"openid", "email", "profile", "account", "venue"}


@pytest.fixture
def admin_with_authenticator(stack: DevStack) -> tuple[str, pyotp.TOTP]:
    """A platform admin of this test alone, with the demo password and an authenticator of
    its own (a TOTP step is accepted once: the demo admin's may have just been used)."""
    from auth import totp
    from auth.secretbox import SecretBox

    secret = totp.new_secret()
    with psycopg.connect(stack.admin_url, autocommit=True) as admin:
        email = copy_of_demo_user(admin, USER["waiter"], with_attachments=False)
        user_id = account_id(admin, email)
        admin.execute("UPDATE users SET is_platform_admin = true WHERE id = %s", (user_id,))
        sealed = SecretBox.from_setting(LOCAL_APP_KEYS).seal(
            secret.encode(), associated_data=user_id.bytes
        )
        admin.execute(
            "INSERT INTO user_totp (user_id, secret_sealed, confirmed_at) VALUES (%s, %s, now())",
            (user_id, sealed),
        )
    return email, pyotp.TOTP(secret)


@pytest.fixture
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    """A real headless Chromium, driven by Selenium, talking to 127.0.0.1 only."""
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def test_a_real_browser_signs_in_on_the_issuers_pages(
    stack: DevStack,
    party: RelyingParty,
    chromium: object,
    admin_with_authenticator: tuple[str, pyotp.TOTP],
) -> None:
    """Given a headless Chromium and authlib's client, when a platform admin opens the
    client's login, types the email and password into the issuer's page, then the code of
    the authenticator into its second page, then Chromium lands on the client's callback
    (the page's policy let the form's answer go there), and the client has a checked ID
    token saying pwd and otp."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.remote.webdriver import WebDriver
    from selenium.webdriver.support.ui import WebDriverWait

    driver: WebDriver = chromium  # type: ignore[assignment]
    email, authenticator = admin_with_authenticator
    wait = WebDriverWait(driver, 30)
    before = len(party.signed_in)

    driver.get(f"{party.url}/login")
    wait.until(lambda d: d.current_url.startswith(f"{stack.url}/oauth/authorize"))
    assert driver.title.startswith("Sign in")
    driver.find_element(By.ID, "email").send_keys(email)
    driver.find_element(By.ID, "password").send_keys(DEMO_PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "form[action='/oauth/authorize'] button").click()
    code = wait.until(lambda d: d.find_elements(By.ID, "code"))[0]
    code.send_keys(authenticator.now())
    driver.find_element(By.CSS_SELECTOR, "form[action='/oauth/authorize/mfa'] button").click()
    wait.until(lambda d: urlsplit(d.current_url).path == "/callback")

    assert len(party.signed_in) == before + 1
    subject = party.signed_in[-1]["userinfo"]["sub"]
    assert driver.find_element(By.ID, "who").text == f"signed in as {subject}"
    claims = party.signed_in[-1]["id_token_claims"]
    assert claims["amr"] == ["pwd", "otp"]
    assert claims["acr"] == "urn:venue:loa:2"


def test_the_sign_in_url_make_dev_prints_works_as_printed(stack: DevStack) -> None:
    """Given the banner of `make dev`, when a browser (one that runs no script) opens the
    sign-in URL it prints and the form is filled in as a person would, then it is sent on to
    the SPA's redirect URI with a code, the state and iss; the exchange command it prints,
    run with that code pasted in, answers tokens."""
    import json
    import subprocess
    from urllib.parse import parse_qs

    import requests

    url = next(line.strip() for line in stack.banner if "/oauth/authorize?" in line)
    command = next(line.strip() for line in stack.banner if "PASTE_THE_CODE" in line)
    browser = requests.Session()
    page = browser.get(url, allow_redirects=False)
    assert page.status_code == 200, page.text
    (form,) = [f for f in forms(page.text) if "password" in f.fields]
    answer = browser.post(
        urljoin(url, form.action),
        data={**form.fields, "email": USER["waiter"].email, "password": DEMO_PASSWORD},
        allow_redirects=False,
    )
    location = answer.headers["location"]
    params = {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}
    pasted = command.replace("PASTE_THE_CODE", params["code"])
    exchanged = subprocess.run(  # noqa: S602 - the command as a person would paste it
        pasted, shell=True, capture_output=True, text=True, timeout=60, check=False
    )

    assert answer.status_code == 303
    assert location.startswith("http://127.0.0.1:5173/callback?")
    assert params["iss"] == stack.url
    assert params["state"] == parse_qs(urlsplit(url).query)["state"][0]
    assert exchanged.returncode == 0, exchanged.stderr
    tokens = json.loads(exchanged.stdout)
    assert tokens["id_token"]
    assert tokens["token_type"] == "Bearer"
