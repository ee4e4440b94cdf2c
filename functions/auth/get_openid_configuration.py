"""GET /.well-known/openid-configuration: where clients and API Gateway find the issuer
(OpenID Connect Discovery 1.0, RFC 8414). It states only what the issuer does."""

from auth.checks import ACR_LOA_1, ACR_LOA_2
from auth.config import Issuer
from auth.discovery_models import OpenIdConfiguration
from tenancy import NoBody, NoQuery, Request, public_route


@public_route(
    "GET",
    "/.well-known/openid-configuration",
    summary="The issuer's metadata",
    database=None,
    response=OpenIdConfiguration,
)
def handler(request: Request[NoQuery, NoBody]) -> OpenIdConfiguration:
    issuer = request.use(Issuer).settings.token_issuer
    base = issuer.rstrip("/")
    return OpenIdConfiguration(
        issuer=issuer,
        jwks_uri=f"{base}/.well-known/jwks.json",
        authorization_endpoint=f"{base}/oauth/authorize",
        token_endpoint=f"{base}/oauth/token",
        userinfo_endpoint=f"{base}/oauth/userinfo",
        revocation_endpoint=f"{base}/oauth/revoke",
        grant_types_supported=["authorization_code", "refresh_token", "client_credentials"],
        response_types_supported=["code"],
        response_modes_supported=["query"],
        code_challenge_methods_supported=["S256"],
        token_endpoint_auth_methods_supported=["none", "client_secret_post"],
        revocation_endpoint_auth_methods_supported=["none"],
        id_token_signing_alg_values_supported=["ES256"],
        subject_types_supported=["public"],
        scopes_supported=["openid", "profile", "email", "account", "venue", "till"],
        claims_supported=[
            "iss",
            "sub",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "amr",
            "acr",
            "sid",
            "at_hash",
            "email",
            "name",
        ],
        acr_values_supported=[ACR_LOA_1, ACR_LOA_2],
        prompt_values_supported=["none", "login"],
        authorization_response_iss_parameter_supported=True,
        claims_parameter_supported=False,
        request_parameter_supported=False,
        request_uri_parameter_supported=False,
    )
