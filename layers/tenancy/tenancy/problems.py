"""RFC 9457 problem details: the one shape of every refusal."""

from __future__ import annotations

import json
from typing import Any

__all__ = [
    "PROBLEM_CONTENT_TYPE",
    "Problem",
    "not_found",
    "oauth_error_response",
    "problem_response",
    "unauthenticated",
    "venue_access_denied",
]

PROBLEM_CONTENT_TYPE = "application/problem+json"

_TITLES = {
    400: "Bad request",
    401: "Unauthorized",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Content too large",
    415: "Unsupported media type",
    422: "Unprocessable content",
    429: "Too many requests",
    500: "Internal server error",
    503: "Service unavailable",
}


class Problem(Exception):
    """A refusal with a stable machine-readable ``code``.

    ``detail`` is shown to the caller: never put a secret, token, PIN, password or
    allergen in it.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        headers: dict[str, str] | None = None,
        keep_writes: bool = False,
        **extra: Any,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.code = code
        self.detail = detail
        self.headers = headers or {}
        #: Commit the request's transaction before refusing: the refusal itself must leave a
        #: trace (a counted failed sign-in, a revoked token family).
        self.keep_writes = keep_writes
        self.extra = extra

    def body(self) -> dict[str, Any]:
        return {
            "type": f"https://errors.venue.app/{self.code}",
            "title": _TITLES.get(self.status, "Error"),
            "status": self.status,
            "code": self.code,
            "detail": self.detail,
            **self.extra,
        }


def problem_response(problem: Problem, *, correlation_id: str | None = None) -> dict[str, Any]:
    """An API Gateway v2 proxy response carrying ``problem``."""
    body = problem.body()
    if correlation_id:
        body["correlation_id"] = correlation_id
    return {
        "statusCode": problem.status,
        "headers": {"content-type": PROBLEM_CONTENT_TYPE, **problem.headers},
        "body": json.dumps(body, separators=(",", ":")),
    }


#: RFC 6749 §5.2 error codes, which /oauth/* routes answer with instead of problem+json.
OAUTH_ERRORS = frozenset(
    {
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "access_denied",
        "temporarily_unavailable",
        "server_error",
    }
)


def oauth_error_response(problem: Problem) -> dict[str, Any]:
    """``problem`` in the OAuth2 error shape (``error``, ``error_description``)."""
    if problem.code in OAUTH_ERRORS:
        error = problem.code
    elif problem.status >= 500:
        error = "temporarily_unavailable" if problem.status == 503 else "server_error"
    elif problem.status == 401:
        error = "invalid_client"
    else:
        error = "invalid_request"
    return {
        # RFC 6749 §5.2 answers a request it cannot use with 400, however it is wrong.
        "statusCode": 400 if problem.status == 422 else problem.status,
        "headers": {
            "content-type": "application/json",
            "cache-control": "no-store",
            **problem.headers,
        },
        "body": json.dumps(
            {"error": error, "error_description": problem.detail}, separators=(",", ":")
        ),
    }


# Refusals shared by every route, so their wording never drifts.
def venue_access_denied() -> Problem:
    return Problem(403, "venue-access-denied", "you don't have access to that venue")


def unauthenticated(detail: str = "a valid bearer token is required") -> Problem:
    return Problem(401, "unauthenticated", detail, headers={"www-authenticate": "Bearer"})


def not_found(what: str = "resource") -> Problem:
    return Problem(404, "not-found", f"{what} not found")
