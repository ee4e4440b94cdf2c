"""Which database errors are the database being away (503 database-unavailable) and which
are a statement failing for its own reasons (500): the boundary ``tenancy.gate`` draws."""

from __future__ import annotations

import psycopg
import pytest
from psycopg import errors
from psycopg_pool import PoolTimeout

from tenancy.gate import database_unavailable, database_unreachable


@pytest.mark.parametrize(
    "error",
    [
        psycopg.OperationalError("connection refused"),  # libpq: no SQLSTATE
        errors.AdminShutdown("terminating connection due to administrator command"),
        errors.CrashShutdown("crash"),
        errors.CannotConnectNow("the database system is starting up"),
        errors.ConnectionFailure("connection failure"),
        errors.ConnectionException("connection exception"),
        PoolTimeout("couldn't get a connection after 30.00 sec"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_lost_or_refused_connection_is_the_database_being_unavailable(
    error: Exception,
) -> None:
    """Given an error that says the connection was lost or never made, then the gate
    answers it as the database being unavailable."""
    assert database_unreachable(error)


@pytest.mark.parametrize(
    "error",
    [
        errors.QueryCanceled("canceling statement due to statement timeout"),
        errors.LockNotAvailable("could not obtain lock"),
        errors.UniqueViolation("duplicate key"),
        errors.SerializationFailure("could not serialize access"),
        errors.InsufficientPrivilege("permission denied"),
        RuntimeError("a bug"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_a_statement_that_fails_for_its_own_reasons_is_not(error: Exception) -> None:
    """Given a statement that failed on a live connection (a timeout, a lock, a constraint,
    a privilege) or any other error, then it is not the database being unavailable: it
    stays an internal error, reported."""
    assert not database_unreachable(error)


def test_the_refusal_says_to_retry_and_names_no_detail_of_the_failure() -> None:
    problem = database_unavailable()
    assert (problem.status, problem.code, problem.headers) == (
        503,
        "database-unavailable",
        {"retry-after": "1"},
    )
    assert "try again" in problem.detail
