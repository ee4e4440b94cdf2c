"""GET /venues/{venue_id}/recipes: the group's recipe library."""

from library.logic import list_recipes
from library.models import Recipes
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/recipes",
    summary="The group's recipe library",
    permission=Permission.VIEW_ORDERS,
    response=Recipes,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Recipes:
    return Recipes(recipes=list_recipes(request.db))
