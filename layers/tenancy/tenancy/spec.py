"""What a route declares: method, path, who may call it, what it takes and gives, and what
its function needs. The handler, template checks, OpenAPI and the cross-tenant matrix are
all derived from it."""

from __future__ import annotations

import enum
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar, Literal, Self

from pydantic import BaseModel, ConfigDict

from tenancy.permissions import NO_PERMISSION, Permission

if TYPE_CHECKING:
    from tenancy.pages import HtmlPage
    from tenancy.problems import Problem

__all__ = [
    "Access",
    "DbRole",
    "FormBody",
    "Need",
    "NoBody",
    "NoQuery",
    "RawQuery",
    "RouteSpec",
    "SignedPayload",
    "StrictBody",
    "TextDocument",
]

_PATH_PARAM = re.compile(r"\{([a-z_]+)\}")


class StrictBody(BaseModel):
    """Base of every request body: unknown fields and loose types are refused."""

    model_config = ConfigDict(extra="forbid", strict=True, frozen=True)


class NoBody(StrictBody):
    """The body of a route that takes none."""


class FormBody(BaseModel):
    """Base of bodies sent as ``application/x-www-form-urlencoded`` (OAuth2's token and
    revocation endpoints). Values arrive as strings; unknown fields are refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class NoQuery(BaseModel):
    """The query of a route that takes none: any parameter is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class SignedPayload(BaseModel):
    """The body exactly as it was sent, and the header that signs it: for a route that
    verifies a signature over the bytes before it reads them (Stripe's webhooks). The gate
    neither parses nor judges it; the route does both, and refuses with problem+json."""

    model_config = ConfigDict(frozen=True)

    #: The header carrying the signature (lower case), named by the subclass.
    signature_header: ClassVar[str] = ""
    #: What the OpenAPI document says the signed body is.
    documented_as: ClassVar[str] = ""
    #: An example of the signed body, for the OpenAPI document.
    documented_example: ClassVar[dict[str, Any]] = {}
    payload: bytes = b""
    signature: str | None = None


class RawQuery(BaseModel):
    """The query string as it was sent: every (name, value) pair in order, repeats and all,
    for a route that must judge them itself (OAuth's authorization endpoint refuses a
    repeated parameter and ignores unknown ones). ``documented`` names the parameters the
    OpenAPI document lists."""

    model_config = ConfigDict(frozen=True)

    documented: ClassVar[tuple[str, ...]] = ()
    pairs: tuple[tuple[str, str], ...] = ()

    def values(self, name: str) -> list[str]:
        return [value for key, value in self.pairs if key == name]


class TextDocument(BaseModel):
    """A response sent as ``text/plain``: one ``Name: value`` line per value of each field
    (the field's alias is its name), as RFC 9116's security.txt is written. Reading such a
    text back (``model_validate_json``) validates it against the model, so the tests that
    check real responses against their models cover text documents too."""

    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)

    def render(self) -> str:
        lines = []
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if value is None:
                continue
            for item in value if isinstance(value, list | tuple) else [value]:
                lines.append(f"{info.alias or name}: {_text(item)}")
        return "\n".join(lines) + "\n"

    @classmethod
    def model_validate_json(
        cls, json_data: str | bytes | bytearray, *args: Any, **kwargs: Any
    ) -> Self:
        text = json_data.decode() if isinstance(json_data, bytes | bytearray) else json_data
        values: dict[str, Any] = {}
        for line in text.splitlines():
            if not line.strip() or line.startswith("#"):
                continue
            name, separator, value = line.partition(": ")
            if not separator:
                raise ValueError(f"not a 'Name: value' line: {line!r}")
            values.setdefault(name, []).append(value)
        fields = {info.alias or name: info for name, info in cls.model_fields.items()}
        for name, found in values.items():
            info = fields.get(name)
            if info is not None and not _is_list(info.annotation):
                (values[name],) = found
        return cls.model_validate(values, *args, **kwargs)


def _text(value: object) -> str:
    import datetime as dt

    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    return str(value)


def _is_list(annotation: object) -> bool:
    import typing

    return typing.get_origin(annotation) in (list, tuple)


class Access(enum.Enum):
    PUBLIC = "public"
    USER = "user"
    VENUE = "venue"
    #: Called by a till with its device token (the PIN route): the device, and the venue
    #: in the path, which the device must serve.
    DEVICE = "device"


class DbRole(enum.StrEnum):
    """The database role a function connects as: one per duty (docs/architecture.md)."""

    #: Venue and account routes: venue data through row-level security, no credentials.
    VENUE = "app_venue"
    #: The issuer's routes: credentials, codes, sessions.
    ISSUER = "app_issuer"
    #: The audit consumer: the only role that appends to audit_log.
    AUDIT = "app_audit"
    #: The Stripe webhook ingress: inserts a verified event, nothing else.
    WEBHOOK = "app_webhook"
    #: The webhook processor: settles stored events, venue rows through a signed service
    #: binding (docs/database-roles.md).
    PAYMENTS = "app_payments"


class Need(enum.StrEnum):
    """What a function reaches outside its code, besides its database connection (the role
    ``database`` names) and the binding key (every gated route). template.yaml grants a
    function exactly its route's needs: `make template` writes them from the declarations
    (infra/functions_template.py), and tests/infra checks the grants."""

    #: Read the app-keys secret (sealed TOTP secrets, diners' dietary records):
    #: secretsmanager:GetSecretValue.
    APP_KEYS = "app-keys"
    #: Sign access tokens: kms:Sign and kms:GetPublicKey on the token signing key.
    SIGNING_KEY = "signing-key"
    #: Publish the signing keys' public halves (the JWKS): kms:GetPublicKey only.
    PUBLIC_KEYS = "public-keys"
    #: Check new passwords against the breach corpus: HTTPS to the internet, no AWS grant;
    #: the function gets the corpus's failure setting.
    BREACH_CORPUS = "breach-corpus"
    #: Send to the audit queue: sqs:SendMessage.
    AUDIT_QUEUE = "audit-queue"
    #: Write the object-locked audit copy: s3:PutObject.
    AUDIT_BUCKET = "audit-bucket"
    #: Publish operational alerts: sns:Publish.
    ALERTS = "alerts"
    #: Send mail (password-reset links): ses:SendEmail from the sender's identity.
    MAIL = "mail"
    #: Read the identity salt (diners' keyed contact hashes): secretsmanager:GetSecretValue.
    IDENTITY_SALT = "identity-salt"
    #: Digest staff PINs (tenancy.pins): read the PIN pepper's secret.
    PIN_PEPPER = "pin-pepper"
    #: Call Stripe's API as the platform: read the Stripe API key's secret, HTTPS out.
    STRIPE_API = "stripe-api"
    #: Verify Stripe's webhook signatures: read the webhook signing secrets' secret.
    WEBHOOK_SECRETS = "webhook-secrets"
    #: Hand a stored Stripe event to the processor: sqs:SendMessage on the webhook queue.
    WEBHOOK_QUEUE = "webhook-queue"


@dataclass(frozen=True)
class RouteSpec:
    """Everything declared about a route."""

    method: str
    path: str
    access: Access
    summary: str
    permission: Permission = NO_PERMISSION
    query: type[BaseModel] = NoQuery
    body: type[BaseModel] = NoBody
    response: type[BaseModel] | None = None
    status: int = 200
    #: "oauth" answers refusals in RFC 6749's error shape instead of problem+json; "page"
    #: (a route a browser opens) answers them with ``error_page``'s HTML.
    errors: Literal["problem", "oauth", "page"] = "problem"
    #: The database role the function connects as; None: it opens no connection at all.
    database: DbRole | None = DbRole.VENUE
    #: The access-token scope the route needs, or the scopes any one of which will do;
    #: by default ``venue`` for venue routes and ``account`` for account routes.
    scope: str | tuple[str, ...] | None = None
    #: What its function reaches in AWS besides its database and the binding key.
    needs: frozenset[Need] = frozenset()
    #: How a page route shows a refusal (``errors="page"``): the problem in, a page out.
    error_page: Callable[[Problem], HtmlPage] | None = field(default=None, compare=False)
    #: A venue route a till session may call too (at its own venue only); False: people only.
    till: bool = False

    @property
    def accepted_scopes(self) -> frozenset[str]:
        if isinstance(self.scope, str):
            declared = frozenset({self.scope})
        elif self.scope is not None:
            declared = frozenset(self.scope)
        else:
            default = {Access.VENUE: "venue", Access.USER: "account", Access.DEVICE: "till"}
            declared = frozenset({default[self.access]} if self.access in default else ())
        return declared | {"till-session"} if self.till else declared

    @property
    def path_params(self) -> tuple[str, ...]:
        return tuple(_PATH_PARAM.findall(self.path))

    @property
    def route_key(self) -> str:
        return f"{self.method} {self.path}"

    @property
    def reads_only(self) -> bool:
        """GET routes: their transaction ends with their first result (one round trip)."""
        return self.method == "GET"
