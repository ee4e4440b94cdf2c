"""What the issuer publishes: its JWKS and its OpenID Connect discovery document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict


class Jwks(BaseModel):
    model_config = ConfigDict(extra="allow")

    keys: list[dict[str, Any]]


class OpenIdConfiguration(BaseModel):
    """OpenID Connect Discovery 1.0 / RFC 8414: only what the issuer really does. Members
    whose default would claim more (``request_uri_parameter_supported`` defaults to true)
    are stated."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str
    token_endpoint: str
    userinfo_endpoint: str
    revocation_endpoint: str
    grant_types_supported: list[str]
    response_types_supported: list[str]
    response_modes_supported: list[str]
    code_challenge_methods_supported: list[str]
    token_endpoint_auth_methods_supported: list[str]
    revocation_endpoint_auth_methods_supported: list[str]
    id_token_signing_alg_values_supported: list[str]
    subject_types_supported: list[str]
    scopes_supported: list[str]
    claims_supported: list[str]
    acr_values_supported: list[str]
    prompt_values_supported: list[str]
    authorization_response_iss_parameter_supported: bool
    claims_parameter_supported: bool
    request_parameter_supported: bool
    request_uri_parameter_supported: bool
