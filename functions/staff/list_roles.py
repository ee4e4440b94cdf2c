"""GET /roles: each role's default flags and what each flag means."""

from staff.catalogue import MEANINGS
from staff.models import FlagMeaning, RoleCatalogue, RoleDefaults
from tenancy import ROLE_DEFAULTS, NoBody, NoQuery, UserRequest, user_route

CATALOGUE = RoleCatalogue(
    roles=[
        RoleDefaults(role=role.value, permissions=flags.names())
        for role, flags in ROLE_DEFAULTS.items()
    ],
    permissions=[
        FlagMeaning(name=flag.name or "", value=int(flag), meaning=meaning)
        for flag, meaning in MEANINGS.items()
    ],
)


@user_route(
    "GET",
    "/roles",
    summary="Roles, their default flags and what each flag means",
    response=RoleCatalogue,
)
def handler(request: UserRequest[NoQuery, NoBody]) -> RoleCatalogue:
    return CATALOGUE
