"""GET /.well-known/jwks.json: the public keys tokens are verified with, by `kid`.

During a rotation it lists the new and the old key, so no token in flight is orphaned.
"""

from auth.config import current_issuer
from auth.models import Jwks
from tenancy import NoBody, NoQuery, Request, public_route


@public_route(
    "GET",
    "/.well-known/jwks.json",
    summary="The issuer's public keys",
    response=Jwks,
    database=None,
)
def handler(request: Request[NoQuery, NoBody]) -> Jwks:
    return Jwks.model_validate(current_issuer().signer.jwks())
