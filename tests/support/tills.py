"""Tills as the tests meet them: a till's device token (client credentials), a till session
opened with a staff PIN, and tills registered for one test, so their locks touch nothing
else. Every step goes through the real routes."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from infra.local.client import ApiClient, Response
from infra.local.seed import (
    CENTRALE,
    DEMO_PINS,
    NORD,
    TILL_CLIENT_ID,
    TILL_CLIENT_SECRET,
    TILL_NORD_CLIENT_ID,
    TILL_NORD_CLIENT_SECRET,
    USER,
)
from tests.support.oauth import token_request

__all__ = [
    "DEMO_TILLS",
    "Till",
    "device_token",
    "enter_pin",
    "register_till",
    "till_session",
]


@dataclass(frozen=True)
class Till:
    client_id: str
    client_secret: str
    venue_id: uuid.UUID


#: The demo tills, one per io osteria venue.
DEMO_TILLS = {
    CENTRALE: Till(TILL_CLIENT_ID, TILL_CLIENT_SECRET, CENTRALE),
    NORD: Till(TILL_NORD_CLIENT_ID, TILL_NORD_CLIENT_SECRET, NORD),
}


def device_token(api: ApiClient, till: Till) -> str:
    """The till's device token (``client_credentials``, scope ``till``)."""
    response = token_request(
        api,
        grant_type="client_credentials",
        client_id=till.client_id,
        client_secret=till.client_secret,
    )
    assert response.status == 200, response.text
    token: str = response.json()["access_token"]
    return token


def enter_pin(
    api: ApiClient, device: str, venue_id: uuid.UUID, pin: str, **kwargs: Any
) -> Response:
    """POST /venues/{venue_id}/till-sessions with ``pin``, as the till with ``device``."""
    return api.request(
        "POST", f"/venues/{venue_id}/till-sessions", token=device, json_body={"pin": pin}, **kwargs
    )


def till_session(api: ApiClient, till: Till, who: str) -> dict[str, Any]:
    """A till session on ``till`` for the demo person ``who`` (their demo PIN)."""
    response = enter_pin(api, device_token(api, till), till.venue_id, DEMO_PINS[who])
    assert response.status == 201, response.text
    opened: dict[str, Any] = response.json()
    return opened


def register_till(api: ApiClient, venue_id: uuid.UUID, manager: str = "regional") -> Till:
    """A new till of ``venue_id``, registered through the route by a demo manager there."""
    response = api.request(
        "POST",
        f"/venues/{venue_id}/tills",
        as_user=USER[manager].id,
        json_body={"name": f"Test till {uuid.uuid4().hex[:6]}"},
    )
    assert response.status == 201, response.text
    body = response.json()
    return Till(body["client_id"], body["client_secret"], venue_id)
