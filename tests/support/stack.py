"""What the fixtures are built from: the local issuer (the one `make dev` and the benchmarks
run, infra/local/issuer.py), a runtime over the test database, and the in-process client
of the local gateway."""

from __future__ import annotations

from auth.config import Issuer
from customers.config import DinerKeys
from infra.local import postgres
from infra.local.client import ApiClient
from infra.local.gateway import LocalGateway
from infra.local.issuer import BREACH_CORPUS, in_memory_issuer
from infra.local.keys import LOCAL_AUDIENCE, LOCAL_ISSUER, SigningKey
from infra.local.seed import LOCAL_PIN_PEPPER, demo_diner_keys, start_demo_session
from tenancy.bindings import BindingKey
from tenancy.db import PooledConnections
from tenancy.invitations import Invitations
from tenancy.pins import PinPepper
from tenancy.runtime import Runtime
from tenancy.spec import DbRole
from tenancy.tokens import KeySource, StaticKeySource, TokenVerifier

__all__ = [
    "BREACH_CORPUS",
    "close_runtime",
    "in_memory_issuer",
    "invitations_of",
    "make_api",
    "make_runtime",
    "trusted_keys",
]


def make_runtime(
    database: postgres.Database,
    keys: KeySource,
    pool_size: int = 8,
    *,
    issuer: Issuer | None = None,
) -> Runtime:
    """A runtime on pools of the venue and issuer roles' connections, trusting ``keys``;
    the issuer's routes use ``issuer``, PIN digests the local pepper."""
    return Runtime(
        databases={
            DbRole.VENUE: PooledConnections(database.venue_url, max_size=pool_size),
            DbRole.ISSUER: PooledConnections(database.issuer_url, max_size=pool_size),
        },
        verifier=TokenVerifier(issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE, keys=keys),
        binding_key=BindingKey.from_setting(database.binding_key),
        collaborators={
            DinerKeys: demo_diner_keys(),
            PinPepper: PinPepper.from_setting(LOCAL_PIN_PEPPER),
        }
        | ({} if issuer is None else {Issuer: issuer, Invitations: invitations_of(issuer)}),
    )


def invitations_of(issuer: Issuer) -> Invitations:
    """Invitations mailed where ``issuer`` mails (the tests' mailbox), linking to its pages."""
    return Invitations(issuer.mailer, issuer_url=issuer.settings.token_issuer)


def close_runtime(runtime: Runtime) -> None:
    for source in runtime.databases.values():
        if isinstance(source, PooledConnections):
            source.close()


def trusted_keys(signing_key: SigningKey, issuer: Issuer) -> StaticKeySource:
    """The issuer's KMS key and the tests' local key (for tokens the tests forge on purpose)."""
    return StaticKeySource({"keys": issuer.signer.jwks()["keys"] + signing_key.jwks()["keys"]})


def make_api(
    runtime: Runtime, keys: KeySource, signing_key: SigningKey, admin_url: str
) -> ApiClient:
    """The local gateway in front of ``runtime``, its authorizer trusting ``keys``; the
    client mints tokens with ``signing_key``, each naming a real sign-in session."""
    gateway = LocalGateway(runtime, keys=keys, issuer=LOCAL_ISSUER, audience=LOCAL_AUDIENCE)
    return ApiClient(
        gateway,
        signing_key,
        LOCAL_ISSUER,
        LOCAL_AUDIENCE,
        start_session=lambda user_id: start_demo_session(admin_url, user_id),
    )
