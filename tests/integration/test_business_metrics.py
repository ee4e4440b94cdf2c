"""Business metrics leave a function as CloudWatch EMF lines: a cross-venue refusal and a
refused sign-in are each counted once, under the route, with nothing secret in the line."""

from __future__ import annotations

import json
from typing import Any

import psycopg

from infra.local.client import ApiClient
from infra.local.seed import CENTRALE, NORD, USER
from tenancy.metrics import NAMESPACE, Metrics, emf_line
from tests.support.demo_users import copy_of_demo_user
from tests.support.oauth import authorize


def metric_names(document: dict[str, Any]) -> list[str]:
    return [
        metric["Name"]
        for directive in document["_aws"]["CloudWatchMetrics"]
        for metric in directive["Metrics"]
    ]


def test_a_cross_venue_refusal_is_counted_once(api: ApiClient) -> None:
    """Given the head chef of centrale, when they ask for nord's orders and then for
    centrale's, then exactly one CrossVenueRefusals = 1 is emitted, under the route, with
    the venue and user as properties, not dimensions."""
    lines: list[str] = []
    runtime = api.gateway.runtime
    before, runtime.metrics = runtime.metrics, Metrics(write=lines.append)
    try:
        refused = api.get(f"/venues/{NORD}/orders", as_user=USER["head_chef"].id)
        served = api.get(f"/venues/{CENTRALE}/orders", as_user=USER["head_chef"].id)
    finally:
        runtime.metrics = before

    (document,) = [json.loads(line) for line in lines]
    (directive,) = document["_aws"]["CloudWatchMetrics"]
    assert (refused.status, served.status) == (403, 200)
    assert metric_names(document) == ["CrossVenueRefusals"]
    assert document["CrossVenueRefusals"] == 1
    assert directive["Namespace"] == NAMESPACE
    assert directive["Dimensions"] == [["route", "service"]]
    assert document["route"] == "GET /venues/{venue_id}/orders"
    assert document["venue_id"] == str(NORD)
    assert document["user_id"] == str(USER["head_chef"].id)


def test_a_refused_sign_in_is_counted_without_the_email_or_password(
    api: ApiClient, admin_db: psycopg.Connection
) -> None:
    """Given an account, when someone signs in on the sign-in page with a wrong password,
    then the page refuses it and one SignInRefusals = 1 is emitted under POST
    /oauth/authorize, and the line carries neither the email nor the password."""
    account = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    lines: list[str] = []
    runtime = api.gateway.runtime
    before, runtime.metrics = runtime.metrics, Metrics(write=lines.append)
    try:
        response = authorize(api, account, "not-the-password-9!")
    finally:
        runtime.metrics = before

    (line,) = lines
    document = json.loads(line)
    assert response.refused, response.text
    assert metric_names(document) == ["SignInRefusals"]
    assert document["route"] == "POST /oauth/authorize"
    assert account not in line
    assert "not-the-password-9!" not in line


def test_an_emf_line_is_what_cloudwatch_reads() -> None:
    """Given a count, when it is written as EMF, then the line names the namespace, the
    dimension set and the metric with its unit, at the given time in milliseconds."""
    line = emf_line(
        "OrdersPlaced",
        2,
        dimensions={"service": "venue-backend", "route": "POST /x"},
        properties={"correlation_id": "c-1"},
        now=1_700_000_000.5,
    )

    assert json.loads(line) == {
        "correlation_id": "c-1",
        "service": "venue-backend",
        "route": "POST /x",
        "OrdersPlaced": 2,
        "_aws": {
            "Timestamp": 1_700_000_000_500,
            "CloudWatchMetrics": [
                {
                    "Namespace": NAMESPACE,
                    "Dimensions": [["route", "service"]],
                    "Metrics": [{"Name": "OrdersPlaced", "Unit": "Count"}],
                }
            ],
        },
    }
