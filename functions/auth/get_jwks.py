"""GET /.well-known/jwks.json: the public keys tokens are verified with, by `kid`.

During a rotation it lists the new and the old key, so no token in flight is orphaned.
"""

from auth.config import Issuer
from auth.discovery_models import Jwks
from tenancy import Need, NoBody, NoQuery, Request, public_route


@public_route(
    "GET",
    "/.well-known/jwks.json",
    summary="The issuer's public keys",
    response=Jwks,
    database=None,
    needs={Need.PUBLIC_KEYS},
)
def handler(request: Request[NoQuery, NoBody]) -> Jwks:
    return Jwks.model_validate(request.use(Issuer).signer.jwks())
