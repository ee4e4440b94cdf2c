"""Every token attack is refused by the local gateway (as API Gateway's authorizer would)
or by the gate behind it, and by the gate alone when a function is invoked directly."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from infra.local.client import ApiClient
from infra.local.keys import SigningKey
from infra.local.seed import CENTRALE, USER
from tests.token_attacks import attacks

# Built against the key the suite's gateway and gate trust (see tests/conftest.py).
ATTACK_NAMES = list(attacks(SigningKey.generate(), USER["regional"].id))
TARGETS = ["/me", f"/venues/{CENTRALE}/orders"]


@pytest.mark.parametrize("target", TARGETS)
@pytest.mark.parametrize("attack", ATTACK_NAMES)
def test_the_api_refuses_every_forged_or_unfit_token(
    api: ApiClient, signing_key: SigningKey, attack: str, target: str
) -> None:
    make_token: Callable[[], str] = attacks(signing_key, USER["regional"].id)[attack]

    response = api.get(target, token=make_token())

    assert response.status == 401, response.text
    assert "orders" not in response.text


@pytest.mark.parametrize("attack", ATTACK_NAMES)
def test_the_gate_alone_refuses_every_forged_or_unfit_token(
    api: ApiClient, signing_key: SigningKey, attack: str
) -> None:
    """Invoked around API Gateway (no authorizer in front), the function still refuses."""
    from orders.list_orders import handler

    token = attacks(signing_key, USER["regional"].id)[attack]()
    event = {
        "headers": {"authorization": f"Bearer {token}"},
        "pathParameters": {"venue_id": str(CENTRALE)},
        "requestContext": {"http": {"method": "GET", "sourceIp": "203.0.113.9"}},
    }

    response = handler.invoke(event, api.gateway.runtime)

    assert response["statusCode"] == 401
    assert response["headers"]["content-type"] == "application/problem+json"


def test_a_genuine_token_of_the_same_key_is_accepted(
    api: ApiClient, signing_key: SigningKey
) -> None:
    """The control: the catalogue fails for its flaws, not because the key is untrusted."""
    response = api.get("/me", token=api.fresh_token(USER["regional"].id))

    assert response.status == 200
