"""The venue switcher: where the caller may work, and as what."""

from account import queries
from account.models import VenueChoice, VenueChoices
from tenancy import NoBody, NoQuery, Permission, UserRequest


def venue_choices(request: UserRequest[NoQuery, NoBody]) -> VenueChoices:
    """Attached venues; a platform admin also sees every other venue, marked as such."""
    rows = queries.venue_choices(request.db, request.user_id, int(Permission.all()))
    return VenueChoices(
        venues=[
            VenueChoice(
                **{k: v for k, v in row.items() if k != "permissions"},
                permissions=Permission(row["permissions"]).names(),
            )
            for row in rows
        ]
    )
