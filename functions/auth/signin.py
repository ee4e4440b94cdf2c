"""Signing in on the issuer's pages, step by step: the email and password, then the second
factor when the account has one (or, for a platform admin without one, setting it up), then
the redirect that carries the one-time code to the client.

The throttle, the lockout and the identical refusals are those of every sign-in
(``auth.checks``); each step is a form bound to the pending authorization request
(``auth.authorization``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import psycopg

from auth import queries
from auth.authorization import (
    Pending,
    enrolment_page,
    pending,
    queue_pending,
    recovery_codes_page,
    redirect_with,
    second_factor_page,
    sign_in_page,
)
from auth.checks import (
    ACR_LOA_1,
    ACR_LOA_2,
    AMR_PASSWORD,
    AMR_SECOND_FACTOR,
    MFA_POLICY_ROLES,
    Throttle,
    check_second_factor,
    refuse,
    scope_for,
)
from auth.config import Issuer
from auth.models import ContinueForm, EnrolmentForm, PasswordForm, SecondFactorForm
from tenancy import HtmlPage, Problem, Redirect
from tenancy.links import digest, new_secret

__all__ = ["confirm_enrolment", "finish_after_enrolment", "second_factor", "sign_in"]

#: The sign-in page's one answer to a refusal, whatever failed (``checks.GENERIC_REFUSAL``).
REFUSED = "The email or password is not right."
WRONG_CODE = "The code is not right."
LOCKED_CODE = "Too many wrong codes: wait a while, then try again."


def _finish(
    conn: psycopg.Connection,
    issuer: Issuer,
    request: Pending,
    user: dict[str, Any],
    *,
    policy: bool | None = None,
    durable: bool = False,
) -> Redirect:
    """The sign-in is complete: a one-time code for the client, sent to its redirect URI
    with its state and this issuer's name (RFC 9207), and the request closed. ``policy``:
    whether a policy requires a second factor of the account, when already read.
    ``durable``: the transaction also spent something that must stay spent (a TOTP step, a
    recovery code), so it waits for the WAL flush as every other does."""
    assert request.acr is not None
    if not durable:
        queries.without_waiting_for_the_flush(conn)
    grant = queries.PendingGrant(
        client_id=request.client_id,
        user_id=user["id"],
        redirect_uri=request.redirect_uri,
        code_challenge=request.code_challenge,
        scope=scope_for(conn, user, request.amr, request.scope, policy=policy),
        amr=request.amr,
        acr=request.acr,
        auth_time=request.auth_time,
        nonce=request.nonce,
    )
    code = new_secret()
    queries.insert_authorization_code(
        conn, digest(code), grant, issuer.settings.authorization_code_seconds
    )
    queries.close_authorization_request(
        conn,
        request.id,
        user_id=user["id"],
        amr=request.amr,
        acr=request.acr,
        auth_time=request.auth_time,
    )
    return redirect_with(
        request.redirect_uri,
        {"code": code, "state": request.state, "iss": issuer.settings.token_issuer},
        status=303,
    )


def _proven(request: Pending, user: dict[str, Any], *, second_factor: bool) -> Pending:
    """The request once the person proved the password (and the second factor): now."""
    amr, acr = (AMR_SECOND_FACTOR, ACR_LOA_2) if second_factor else (AMR_PASSWORD, ACR_LOA_1)
    return dataclasses.replace(request, user_id=user["id"], amr=amr, acr=acr, auth_time=None)


def _advance(
    conn: psycopg.Connection, request: Pending, step: str, *, durable: bool = False
) -> Pending:
    """The request waits for ``step`` next, keeping who signed in and how so far (not
    waiting for the WAL flush, unless ``durable``: see ``_finish``)."""
    assert request.user_id is not None
    assert request.acr is not None
    if not durable:
        queries.without_waiting_for_the_flush(conn)
    queries.advance_authorization_request(
        conn, request.id, step=step, user_id=request.user_id, amr=request.amr, acr=request.acr
    )
    return dataclasses.replace(request, step=step)


def sign_in(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: PasswordForm,
    cookies: Mapping[str, str],
    source_ip: str,
) -> HtmlPage | Redirect:
    """POST /oauth/authorize, the sign-in page's form: the email and password. A refusal is
    the same page and message whatever failed; a lock adds Retry-After."""
    from auth import passwords

    # Sent together, read together: the request, the throttle's standing, the account.
    read_request = queue_pending(conn, form)
    throttle = Throttle(conn, issuer, form.email, source_ip)
    read_account = queries.sign_in_account(conn, form.email.strip().lower(), MFA_POLICY_ROLES)
    request = read_request(issuer, cookies, step="password")
    try:
        throttle.refuse_if_locked()
        user = read_account()
        if user is None or user["password_hash"] is None:
            passwords.verify_against_dummy(form.password)
            throttle.failed(None)
            raise refuse()
        if (
            not passwords.verify_password(user["password_hash"], form.password)
            or user["disabled_at"]
        ):
            throttle.failed(user["id"])
            raise refuse()
    except Problem as refusal:
        # One message for every refusal, a lock included (which adds Retry-After).
        page = sign_in_page(
            request, email=form.email, message=REFUSED, status=400, headers=refusal.headers
        )
        return dataclasses.replace(page, refusal=refusal.code)
    if passwords.needs_rehash(user["password_hash"]):
        queries.set_password_hash(conn, user["id"], passwords.hash_password(form.password))

    request = _proven(request, user, second_factor=False)
    if user["has_totp"]:
        return second_factor_page(_advance(conn, request, "second_factor"))
    if user["is_platform_admin"]:
        return _start_enrolment(conn, issuer, _advance(conn, request, "enrol"), user)
    # Failures are forgiven only once the whole sign-in succeeds: a right password followed
    # by wrong codes must not reset the count that limits guessing the second factor.
    throttle.succeeded()
    return _finish(conn, issuer, request, user, policy=user["mfa_required"])


def _expired() -> Problem:
    return Problem(
        400,
        "sign-in-expired",
        "This sign-in cannot go on: the setup it started is no longer there.",
    )


def _user(conn: psycopg.Connection, request: Pending) -> dict[str, Any]:
    assert request.user_id is not None
    user = queries.user_by_id(conn, request.user_id)
    assert user is not None
    return user


def second_factor(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: SecondFactorForm,
    cookies: Mapping[str, str],
    source_ip: str,
) -> HtmlPage | Redirect:
    """POST /oauth/authorize/mfa: a TOTP code or a recovery code. Every check goes through
    the account's throttle, as any sign-in's does."""
    request = pending(conn, issuer, form, cookies, step="second_factor")
    if (form.code is None) == (form.recovery_code is None):
        return second_factor_page(
            request, message="Enter the code from your app, or a recovery code.", status=400
        )
    user = _user(conn, request)
    throttle = Throttle(conn, issuer, user["email"], source_ip)
    try:
        if not check_second_factor(
            conn, issuer, throttle, user, code=form.code, recovery_code=form.recovery_code
        ):
            wrong = second_factor_page(request, message=WRONG_CODE, status=400)
            return dataclasses.replace(wrong, refusal=refuse().code)
    except Problem as locked:
        page = second_factor_page(request, message=LOCKED_CODE, status=400, headers=locked.headers)
        return dataclasses.replace(page, refusal=locked.code)
    throttle.succeeded()
    return _finish(conn, issuer, _proven(request, user, second_factor=True), user, durable=True)


# --- a platform admin without a second factor sets one up ---------------------------------


def _start_enrolment(
    conn: psycopg.Connection, issuer: Issuer, request: Pending, user: dict[str, Any]
) -> HtmlPage:
    from auth import credentials

    secret, uri = credentials.start_totp(conn, issuer, user_id=user["id"], email=user["email"])
    return enrolment_page(request, secret=secret, otpauth_uri=uri)


def confirm_enrolment(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: EnrolmentForm,
    cookies: Mapping[str, str],
) -> HtmlPage:
    """POST /oauth/authorize/enrol: the first code of the authenticator being set up turns
    it on; the recovery codes are shown once. The code was given during this sign-in, so it
    is its second factor (``otp``)."""
    from auth import credentials
    from auth import totp as totp_codes

    request = pending(conn, issuer, form, cookies, step="enrol")
    user = _user(conn, request)
    try:
        codes = credentials.confirm_totp(conn, issuer, user_id=user["id"], code=form.code)
    except Problem:
        row = queries.totp(conn, user["id"])
        if row is None or row["confirmed_at"] is not None:
            # The secret shown is gone (or another sign-in confirmed one): start again.
            raise _expired() from None
        secret = issuer.secrets.open(row["secret_sealed"], associated_data=user["id"].bytes)
        return enrolment_page(
            request,
            secret=secret.decode(),
            otpauth_uri=totp_codes.provisioning_uri(secret.decode(), user["email"]),
            message=WRONG_CODE,
            status=400,
        )
    proven = _proven(request, user, second_factor=True)
    return recovery_codes_page(_advance(conn, proven, "enrolled", durable=True), codes)


def finish_after_enrolment(
    conn: psycopg.Connection,
    issuer: Issuer,
    form: ContinueForm,
    cookies: Mapping[str, str],
    source_ip: str,
) -> Redirect:
    """POST /oauth/authorize/continue: the recovery codes are kept; the code goes out."""
    request = pending(conn, issuer, form, cookies, step="enrolled")
    user = _user(conn, request)
    Throttle(conn, issuer, user["email"], source_ip).succeeded()
    return _finish(conn, issuer, request, user)
