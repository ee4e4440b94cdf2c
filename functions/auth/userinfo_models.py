"""What the OpenID Connect UserInfo routes give."""

from __future__ import annotations

from auth.model_base import OmitsAbsent


class UserInfo(OmitsAbsent):
    """OpenID Connect's UserInfo: the subject, and what the granted scopes open."""

    sub: str
    email: str | None = None
    name: str | None = None
