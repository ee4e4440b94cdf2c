"""PUT /venues/{venue_id}/stock-counts/{item_id}: today's count of a catalogue item here
(sent again, it corrects the count)."""

from stock.logic import record_count
from stock.models import StockCount, StockCountEntry
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/stock-counts/{item_id}",
    summary="Record or correct the day's stock count of a catalogue item",
    permission=Permission.EDIT_MENU,
    body=StockCountEntry,
    response=StockCount,
)
def handler(request: VenueRequest[NoQuery, StockCountEntry]) -> StockCount:
    return record_count(
        request.db,
        venue_id=request.venue_id,
        item_id=request.path["item_id"],
        quantity=request.body.quantity,
        day=request.body.day,
        actor_user_id=request.user_id,
    )
