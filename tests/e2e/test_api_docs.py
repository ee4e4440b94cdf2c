"""The API's interactive page on `make dev`, in a real headless Chromium: /docs lists every
route of the OpenAPI document, and "Try it out" with a demo token calls the API."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from infra.local.seed import USER
from tests.conftest import ROOT
from tests.support.browser import headless_chromium
from tests.support.dev_stack import DevStack, dev_stack
from tests.support.oauth import sign_in_over_http


@pytest.fixture(scope="module")
def stack(server_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[DevStack]:
    with dev_stack(server_url, tmp_path_factory.mktemp("dev-state")) as running:
        yield running


@pytest.fixture
def chromium(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    with headless_chromium(tmp_path_factory.mktemp("chromium")) as driver:
        yield driver


def committed_routes() -> set[tuple[str, str]]:
    document = json.loads((ROOT / "docs/openapi.json").read_text())
    return {(m.upper(), p) for p, ops in document["paths"].items() for m in ops}


def test_make_dev_serves_the_committed_document_and_a_page_without_a_cdn(
    stack: DevStack,
) -> None:
    """Given `make dev`, /openapi.json is docs/openapi.json as committed, and /docs is a
    page whose scripts and styles all come from the stack itself, under a policy that
    allows no other origin."""
    import requests

    served = requests.get(f"{stack.url}/openapi.json", timeout=30)
    page = requests.get(f"{stack.url}/docs", timeout=30)
    html, policy = page.text, page.headers["content-security-policy"]

    assert served.content == (ROOT / "docs/openapi.json").read_bytes()
    assert "http" not in html  # every asset by path, on this origin
    assert "script-src 'self';" in policy
    assert "default-src 'self'" in policy


def test_the_page_lists_every_route_and_try_it_out_calls_the_api(
    stack: DevStack, chromium: Any
) -> None:
    """Given a headless Chromium on /docs and a demo token (centrale's head chef), when the
    page has rendered, then it lists every route of the document; when the token is given
    to Authorize and GET /me/venues is tried out, then the page shows the API's 200 and
    the head chef's venue."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    token = sign_in_over_http(stack.url, USER["head_chef"].email)["access_token"]
    wait = WebDriverWait(chromium, 60)
    chromium.get(f"{stack.url}/docs")
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) > 0)

    listed = {
        (
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-method").text.strip(),
            block.find_element(By.CSS_SELECTOR, ".opblock-summary-path").get_attribute("data-path"),
        )
        for block in chromium.find_elements(By.CSS_SELECTOR, ".opblock")
    }
    assert listed == committed_routes()

    chromium.find_element(By.CSS_SELECTOR, ".auth-wrapper .authorize").click()
    modal = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, ".modal-ux"))
    bearer = next(
        c for c in modal.find_elements(By.CSS_SELECTOR, ".auth-container") if "bearerAuth" in c.text
    )
    bearer.find_element(By.CSS_SELECTOR, "input").send_keys(token)
    bearer.find_element(By.CSS_SELECTOR, "button.authorize").click()
    modal.find_element(By.CSS_SELECTOR, "button.btn-done").click()

    operation = chromium.find_element(By.ID, "operations-account-account_list_my_venues")
    operation.find_element(By.CSS_SELECTOR, ".opblock-summary-control").click()
    wait.until(lambda d: operation.find_elements(By.CSS_SELECTOR, ".try-out__btn"))[0].click()
    operation.find_element(By.CSS_SELECTOR, "button.execute").click()
    status = wait.until(
        lambda d: operation.find_elements(
            By.CSS_SELECTOR, ".live-responses-table tr.response .response-col_status"
        )
    )[0]
    shown = operation.find_element(
        By.CSS_SELECTOR, ".live-responses-table tr.response .microlight"
    ).text

    assert status.text.strip() == "200"
    assert "io osteria centrale" in shown
    assert "io osteria nord" not in shown
