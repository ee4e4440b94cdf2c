"""What the issuer's sign-in pages take: their queries and forms (the other routes' models are
in ``auth.token_models``, ``auth.account_models``, ``auth.discovery_models`` and
``auth.till_models``, so each handler builds only the models it uses at import)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from tenancy import FormBody, RawQuery


class AuthorizationQuery(RawQuery):
    """An authorization request (RFC 6749 §4.1.1, RFC 7636, OpenID Connect Core §3.1.2.1),
    judged by the route itself: a repeated parameter is refused, an unknown one ignored."""

    documented = (
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "code_challenge",
        "code_challenge_method",
        "nonce",
        "prompt",
        "login_hint",
        "response_mode",
    )


class PageForm(FormBody):
    """What every form of the sign-in carries: the pending authorization request and the
    CSRF token bound to it."""

    request: str = Field(max_length=64)
    csrf: str = Field(max_length=128)


class PasswordForm(PageForm):
    email: str = Field(max_length=320)
    password: str = Field(max_length=4096)


class SecondFactorForm(PageForm):
    code: str | None = Field(default=None, max_length=16)
    recovery_code: str | None = Field(default=None, max_length=32)


class EnrolmentForm(PageForm):
    code: str = Field(max_length=16)


class ContinueForm(PageForm):
    pass


class ResetRequestForm(PageForm):
    email: str = Field(max_length=320)


class ResetLinkQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    token: str = Field(max_length=128)


class NewPasswordForm(FormBody):
    token: str = Field(max_length=128)
    password: str = Field(max_length=4096)
    password_again: str = Field(max_length=4096)


class InvitationForm(FormBody):
    token: str = Field(max_length=128)
    display_name: str = Field(max_length=200)
    password: str = Field(max_length=4096)
    password_again: str = Field(max_length=4096)
