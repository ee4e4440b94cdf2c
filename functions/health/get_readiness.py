"""GET /health/ready: whether this stack can serve: the canary deploy's hook asks it."""

from health.models import Readiness
from tenancy import NoBody, NoQuery, Request, public_route


@public_route(
    "GET",
    "/health/ready",
    summary="Readiness: the database answers the venue functions' role",
    response=Readiness,
)
def handler(request: Request[NoQuery, NoBody]) -> Readiness:
    request.db.execute("SELECT 1").fetchone()
    return Readiness(status="ok", database="ok")
