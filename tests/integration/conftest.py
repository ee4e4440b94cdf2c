"""Fixtures of the issuer's tests: accounts and venues made for one test."""

from __future__ import annotations

import uuid

import psycopg
import pytest

from auth.config import Issuer
from infra.local.seed import USER
from tests.support.demo_users import copy_of_demo_user
from tests.support.second_factor import Enrolled, enrol_second_factor, new_venue


@pytest.fixture
def venue(admin_db: psycopg.Connection) -> uuid.UUID:
    """A venue of its own group, made for one test, not requiring MFA (yet)."""
    return new_venue(admin_db)


@pytest.fixture
def enrolled_account(admin_db: psycopg.Connection, issuer: Issuer) -> Enrolled:
    """A waiter-like account with no venue and a second factor, made for one test."""
    email = copy_of_demo_user(admin_db, USER["waiter"], with_attachments=False)
    return enrol_second_factor(admin_db, issuer, email)
