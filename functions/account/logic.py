"""The venue switcher: where the caller may work, and as what."""

import psycopg

from account import queries
from account.models import VenueChoice, VenueChoices
from tenancy import NoBody, NoQuery, Permission, UserRequest


def venue_choices(request: UserRequest[NoQuery, NoBody]) -> VenueChoices:
    """Attached venues; a platform admin also sees every other venue, marked as such."""
    conn: psycopg.Connection = request.db
    attached = {row["id"]: row for row in queries.attached_venues(conn, request.user_id)}
    choices = [
        VenueChoice(
            **{k: v for k, v in row.items() if k != "permissions"},
            permissions=Permission(row["permissions"]).names(),
            via_platform_admin=False,
        )
        for row in attached.values()
    ]
    if request.is_platform_admin:
        choices += [
            VenueChoice(
                **row,
                role="platform_admin",
                permissions=Permission.all().names(),
                via_platform_admin=True,
            )
            for row in queries.all_venues(conn)
            if row["id"] not in attached
        ]
    choices.sort(key=lambda choice: (choice.group_name, choice.name))
    return VenueChoices(venues=choices)
