"""The issuer's pages: Jinja2 templates (functions/auth/templates), autoescaped, with one
stylesheet inlined under a hash the Content-Security-Policy names. No script, no third-party
asset, nothing a page shows is ever markup a person typed.

Every form of the sign-in carries the pending authorization request's id and its CSRF token;
the browser carries a cookie the request is bound to as well (``auth.authorization``).
"""

from __future__ import annotations

import base64
import functools
import hashlib
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from tenancy import HtmlPage, Problem
from tenancy.links import ACCEPT_PATH

if TYPE_CHECKING:
    import jinja2

__all__ = [
    "AUTHORIZE",
    "CONTINUE",
    "ENROL",
    "INVITATION",
    "MFA",
    "NEW_PASSWORD",
    "PASSWORD_RESET",
    "content_security_policy",
    "error_page",
    "render",
]

TEMPLATES = Path(__file__).resolve().with_name("templates")
#: Where the pages' forms post.
AUTHORIZE = "/oauth/authorize"
MFA = "/oauth/authorize/mfa"
ENROL = "/oauth/authorize/enrol"
CONTINUE = "/oauth/authorize/continue"
PASSWORD_RESET = "/oauth/password-reset"  # noqa: S105 - a path, not a password
NEW_PASSWORD = "/oauth/password-reset/confirm"  # noqa: S105 - a path, not a password
#: The page an invitation's link opens, where the invited person sets their password.
INVITATION = ACCEPT_PATH


@functools.cache
def _environment() -> jinja2.Environment:
    import jinja2

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


@functools.cache
def _stylesheet() -> tuple[str, str]:
    """The stylesheet and its CSP source (``'sha256-...'``)."""
    css = (TEMPLATES / "pages.css").read_text()
    digest = base64.b64encode(hashlib.sha256(css.encode()).digest()).decode()
    return css, f"'sha256-{digest}'"


def _form_target(uri: str) -> str:
    """The CSP source that lets a form's answer redirect to ``uri``: its origin, or its
    scheme for a native app's private-use URI scheme."""
    parts = urlsplit(uri)
    if parts.scheme in ("http", "https") and parts.netloc:
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def content_security_policy(redirect_uri: str | None = None) -> str:
    """No script at all; the one inline stylesheet by its hash; forms post only here, and
    the redirect that answers a sign-in may go to the client's registered redirect URI."""
    _, style = _stylesheet()
    targets = "'self'" + (f" {_form_target(redirect_uri)}" if redirect_uri else "")
    return (
        f"default-src 'none'; style-src {style}; form-action {targets};"
        " base-uri 'none'; frame-ancestors 'none'"
    )


def new_password_form(
    action: str,
    token: str,
    *,
    title: str,
    button: str,
    message: str | None = None,
    status: int = 200,
    headers: Mapping[str, str] | None = None,
    ask_name: bool = False,
    display_name: str = "",
) -> HtmlPage:
    """The form that sets a password through a link (a password reset, an invitation)."""
    return render(
        "new_password.html",
        title=title,
        action=action,
        token=token,
        message=message,
        status=status,
        headers=headers,
        button=button,
        ask_name=ask_name,
        display_name=display_name,
    )


def render(
    template: str,
    *,
    title: str,
    status: int = 200,
    message: str | None = None,
    client_name: str | None = None,
    redirect_uri: str | None = None,
    headers: Mapping[str, str] | None = None,
    cookies: Sequence[str] = (),
    **context: Any,
) -> HtmlPage:
    """``template`` rendered as a page, with the pages' security policy."""
    from markupsafe import Markup

    css, _ = _stylesheet()
    html = (
        _environment()
        .get_template(template)
        .render(
            title=title,
            message=message,
            client_name=client_name,
            # The stylesheet is this package's own file, not input: it goes in as it is.
            stylesheet=Markup(css),  # noqa: S704 # nosec B704
            **context,
        )
    )
    policy = {"content-security-policy": content_security_policy(redirect_uri)}
    return HtmlPage(
        html, status=status, headers={**policy, **(headers or {})}, cookies=tuple(cookies)
    )


def notice(
    title: str,
    *paragraphs: str,
    status: int = 200,
    reference: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> HtmlPage:
    """A page that only says something."""
    return render(
        "notice.html",
        title=title,
        status=status,
        paragraphs=paragraphs,
        reference=reference,
        headers=headers,
    )


#: What a refusal the gate meets before the page's own code says, in words for a person.
_REFUSALS = {
    "body-too-large": "What was sent is too large.",
    "unsupported-media-type": "This form was not sent as a browser sends it.",
    "internal-error": "Something went wrong on our side. Please try again in a moment.",
}


#: Refusals whose detail the issuer's pages wrote for a person to read.
WORDED_FOR_PEOPLE = frozenset({"sign-in-expired"})


def error_page(problem: Problem) -> HtmlPage:
    """A refusal of a page route as a page: its status, a sentence and, for a failure on
    our side, the reference to quote. Never the input that was refused."""
    if problem.status >= 500:
        paragraphs = [_REFUSALS["internal-error"]]
    elif problem.code in WORDED_FOR_PEOPLE:
        paragraphs = [problem.detail, "Go back to the app and sign in again."]
    elif problem.code in _REFUSALS:
        paragraphs = [_REFUSALS[problem.code], "Go back to the app and sign in again."]
    else:
        paragraphs = [
            "This page cannot be shown for what was sent.",
            "Go back to the app and sign in again.",
        ]
    reference = problem.extra.get("correlation_id")
    return notice(
        "Something is not right",
        *paragraphs,
        status=problem.status,
        reference=str(reference) if reference else None,
    )
