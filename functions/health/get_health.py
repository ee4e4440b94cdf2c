"""GET /health: the canary deploy hook and load balancers ask whether this stack can serve."""

from pydantic import BaseModel

from tenancy import NoBody, NoQuery, Request, public_route


class Health(BaseModel):
    status: str
    database: str


@public_route("GET", "/health", summary="Liveness and database reachability", response=Health)
def handler(request: Request[NoQuery, NoBody]) -> Health:
    request.db.execute("SELECT 1").fetchone()
    return Health(status="ok", database="ok")
