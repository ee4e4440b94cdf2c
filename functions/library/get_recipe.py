"""GET /venues/{venue_id}/recipes/{recipe_id}: one recipe of the group's library."""

from library.logic import get_recipe
from library.models import Recipe
from tenancy import NoBody, NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "GET",
    "/venues/{venue_id}/recipes/{recipe_id}",
    summary="A recipe of the group's library",
    permission=Permission.VIEW_ORDERS,
    response=Recipe,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> Recipe:
    return get_recipe(request.db, request.path["recipe_id"])
