"""What /me and the venue switcher return."""

import uuid

from pydantic import BaseModel

from tenancy import StrictBody


class Me(BaseModel):
    id: uuid.UUID
    email: str
    display_name: str
    is_platform_admin: bool


class VenueChoice(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    group_id: uuid.UUID
    group_name: str
    role: str
    permissions: list[str]
    #: Reached through the platform-admin flag, not an attachment: every use is audited.
    via_platform_admin: bool
    #: The venue the person last picked (PUT /me/current-venue).
    current: bool


class VenueChoices(BaseModel):
    venues: list[VenueChoice]


class CurrentVenue(StrictBody):
    """The venue the person picks in the switcher; the app opens it next time."""

    venue_id: uuid.UUID
