"""POST /venues/{venue_id}/recipes: the recipe of one of the group's catalogue items."""

from library.logic import create_recipe
from library.models import NewRecipe, Recipe
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "POST",
    "/venues/{venue_id}/recipes",
    summary="Add the recipe of a catalogue item to the group's library",
    permission=Permission.MANAGE_GROUP,
    body=NewRecipe,
    response=Recipe,
    status=201,
)
def handler(request: VenueRequest[NoQuery, NewRecipe]) -> Recipe:
    return create_recipe(
        request.db, venue_id=request.venue_id, recipe=request.body, actor_user_id=request.user_id
    )
