"""POST /venues/{venue_id}/till-sessions: a staff PIN entered on a till opens a till session.

Called with the till's device token (client credentials), at a venue the till serves."""

from auth.config import Issuer
from auth.till_models import PinEntry, TillSessionOpened
from auth.tills import open_session
from tenancy import DbRole, DeviceRequest, Need, NoQuery, device_route
from tenancy.pins import PinPepper


@device_route(
    "POST",
    "/venues/{venue_id}/till-sessions",
    summary="Open a till session with a staff PIN (the till's device token)",
    database=DbRole.ISSUER,
    needs={Need.SIGNING_KEY, Need.PIN_PEPPER},
    body=PinEntry,
    response=TillSessionOpened,
    status=201,
)
def handler(request: DeviceRequest[NoQuery, PinEntry]) -> TillSessionOpened:
    return open_session(
        request.db,
        request.use(Issuer),
        request.use(PinPepper),
        client_id=request.client_id,
        venue_id=request.venue_id,
        pin=request.body.pin,
    )
