"""What reaches Sentry: a realistic event, as sentry-sdk's AWS Lambda integration builds it
for a failed request, leaves ``tenancy.sentry.before_send`` without a token, password, PIN,
allergen, dietary note or body, and with what makes the error useful."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tenancy.log import REDACTED
from tenancy.sentry import before_send, reporter

ACCESS_TOKEN = "eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJzdWIiOiJzZWNyZXQtc3ViIn0.c2ln-QUJD"
REFRESH_TOKEN = "rt-Zm9yZ2V0LW1lLW5vdC0xMjM0NTY3ODk"
PASSWORD = "Correct-Horse-Battery-9!"
PIN = "4821"
ALLERGEN = "sesame-and-lupin"
DIETARY = "coeliac, no shellfish"
CODE_VERIFIER = "verifier-dGhpcy1pcy10aGUtdmVyaWZpZXI"
BODY = json.dumps({"email": "marco@io-osteria.example", "password": PASSWORD, "pin": PIN})
SENSITIVE = {
    "access token": ACCESS_TOKEN,
    "refresh token": REFRESH_TOKEN,
    "password": PASSWORD,
    "pin": PIN,
    "allergen": ALLERGEN,
    "dietary note": DIETARY,
    "code verifier": CODE_VERIFIER,
    "body": BODY,
}


def lambda_error_event() -> dict[str, Any]:
    """A failed POST to the issuer, as Sentry's AWS Lambda integration reports it (with
    the stack's local variables, breadcrumbs and the Lambda's request)."""
    return {
        "event_id": "5d0c5a528f0e4f439a551b0c8b7d8e10",
        "level": "error",
        "platform": "python",
        "environment": "prod",
        "transaction": "venue-prod-TokenFunction",
        "exception": {
            "values": [
                {
                    "type": "ValueError",
                    "value": f"could not verify {ACCESS_TOKEN}",
                    "mechanism": {"type": "aws_lambda", "handled": False},
                    "stacktrace": {
                        "frames": [
                            {
                                "function": "handler",
                                "module": "auth.token",
                                "lineno": 42,
                                "vars": {
                                    "password": PASSWORD,
                                    "refresh_token": REFRESH_TOKEN,
                                    "code_verifier": CODE_VERIFIER,
                                    "event": {
                                        "headers": {"authorization": f"Bearer {ACCESS_TOKEN}"},
                                        "body": BODY,
                                    },
                                },
                            },
                            {
                                "function": "take_order",
                                "module": "orders.logic",
                                "lineno": 7,
                                "vars": {
                                    "staff": {"pin": PIN, "name": "Luca"},
                                    "diner": {
                                        "allergens": [ALLERGEN],
                                        "dietary_notes": DIETARY,
                                    },
                                    "raw_body": BODY.encode().hex(),
                                },
                            },
                        ]
                    },
                }
            ]
        },
        "breadcrumbs": {
            "values": [
                {"category": "httplib", "message": f"POST /oauth/token Bearer {ACCESS_TOKEN}"},
                {"category": "log", "data": {"refresh_token": REFRESH_TOKEN, "pin": PIN}},
            ]
        },
        "request": {
            "url": "https://api.example/oauth/token",
            "method": "POST",
            "headers": {
                "Authorization": f"Bearer {ACCESS_TOKEN}",
                "Cookie": f"session={REFRESH_TOKEN}",
                "Content-Type": "application/x-www-form-urlencoded",
            },
            "query_string": f"token={REFRESH_TOKEN}",
            "data": BODY,
            "cookies": {"session": REFRESH_TOKEN},
        },
        "extra": {
            "lambda": {
                "function_name": "venue-prod-TokenFunction",
                "aws_request_id": "c6af9ac6-7b61-11e6-9a41-93e8deadbeef",
            },
            "sys.argv": ["/var/runtime/bootstrap"],
            "request_body": BODY,
        },
        "contexts": {"runtime": {"name": "CPython", "version": "3.11.9"}},
        "tags": {"route": "POST /oauth/token"},
    }


@pytest.mark.parametrize("name", SENSITIVE.keys())
def test_no_sensitive_value_survives_before_send(name: str) -> None:
    """Given a realistic Lambda error event carrying a token, a password, a PIN, allergens,
    dietary notes, a PKCE verifier and the request body in headers, locals, breadcrumbs and
    the request, when it passes before_send, then that value appears nowhere in it."""
    sent = json.dumps(before_send(lambda_error_event(), hint=None))

    assert SENSITIVE[name] not in sent


def test_what_makes_the_error_useful_is_kept() -> None:
    """Given the same event, when it passes before_send, then the exception type, the
    frames, the route, the URL and the Lambda's request id are still there, and the
    request's body, query string and cookies are gone."""
    sent = before_send(lambda_error_event(), hint=None)

    (error,) = sent["exception"]["values"]
    assert error["type"] == "ValueError"
    assert error["value"] == f"could not verify {REDACTED}"
    assert [frame["function"] for frame in error["stacktrace"]["frames"]] == [
        "handler",
        "take_order",
    ]
    assert sent["tags"] == {"route": "POST /oauth/token"}
    assert sent["request"]["url"] == "https://api.example/oauth/token"
    assert sent["request"]["headers"]["Content-Type"] == "application/x-www-form-urlencoded"
    assert set(sent["request"]) == {"url", "method", "headers"}
    assert sent["extra"]["lambda"]["aws_request_id"] == "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def test_without_a_dsn_nothing_is_sent() -> None:
    """Given no DSN, reporting an error initialises nothing and sends nothing."""
    import sentry_sdk

    reporter("", "prod")(RuntimeError("boom"))

    assert not sentry_sdk.is_initialized()


def test_with_a_dsn_sentry_starts_with_the_lambda_integration_and_the_scrubber(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Given a DSN, when the first error is reported, then sentry-sdk is initialised once
    with its AWS Lambda integration, no default PII and before_send, and the error is
    captured."""
    import sentry_sdk
    from sentry_sdk.integrations.aws_lambda import AwsLambdaIntegration

    started: list[dict[str, Any]] = []
    captured: list[BaseException] = []
    monkeypatch.setattr(sentry_sdk, "init", lambda **options: started.append(options))
    monkeypatch.setattr(sentry_sdk, "is_initialized", lambda: bool(started))
    monkeypatch.setattr(sentry_sdk, "capture_exception", captured.append)
    report = reporter("https://public@sentry.invalid/1", "prod")
    error = RuntimeError("boom")

    report(error)
    report(error)

    (options,) = started
    assert options["before_send"] is before_send
    assert options["send_default_pii"] is False
    assert options["environment"] == "prod"
    assert [type(i) for i in options["integrations"]] == [AwsLambdaIntegration]
    assert captured == [error, error]
