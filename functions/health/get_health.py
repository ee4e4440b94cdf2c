"""GET /health: liveness. The function starts and answers; it opens no connection, so a
database outage does not make every instance look dead (GET /health/ready says that)."""

from health.models import Liveness
from tenancy import NoBody, NoQuery, Request, public_route


@public_route(
    "GET", "/health", summary="Liveness: the function answers", response=Liveness, database=None
)
def handler(request: Request[NoQuery, NoBody]) -> Liveness:
    return Liveness(status="ok")
