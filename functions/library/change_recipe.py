"""PUT /venues/{venue_id}/recipes/{recipe_id}: replace a recipe of the group's library."""

from library.logic import change_recipe
from library.models import Recipe, RecipeContent
from tenancy import NoQuery, Permission, VenueRequest, venue_route


@venue_route(
    "PUT",
    "/venues/{venue_id}/recipes/{recipe_id}",
    summary="Change a recipe of the group's library",
    permission=Permission.MANAGE_GROUP,
    body=RecipeContent,
    response=Recipe,
)
def handler(request: VenueRequest[NoQuery, RecipeContent]) -> Recipe:
    return change_recipe(
        request.db,
        venue_id=request.venue_id,
        recipe_id=request.path["recipe_id"],
        content=request.body,
        actor_user_id=request.user_id,
    )
