"""GET /.well-known/openid-configuration: where clients and API Gateway find the issuer."""

from auth.config import Issuer
from auth.models import OpenIdConfiguration
from tenancy import NoBody, NoQuery, Request, public_route


@public_route(
    "GET",
    "/.well-known/openid-configuration",
    summary="The issuer's metadata",
    database=None,
    response=OpenIdConfiguration,
)
def handler(request: Request[NoQuery, NoBody]) -> OpenIdConfiguration:
    base = request.use(Issuer).settings.token_issuer.rstrip("/")
    return OpenIdConfiguration(
        issuer=request.use(Issuer).settings.token_issuer,
        jwks_uri=f"{base}/.well-known/jwks.json",
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        revocation_endpoint=f"{base}/oauth/revoke",
        grant_types_supported=["authorization_code", "refresh_token", "client_credentials"],
        response_types_supported=["code"],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["none", "client_secret_post"],
        id_token_signing_alg_values_supported=["ES256"],
        subject_types_supported=["public"],
        scopes_supported=["account", "venue", "mfa-enrolment", "till"],
    )
