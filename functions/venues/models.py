import uuid

from pydantic import BaseModel


class VenueGroupRef(BaseModel):
    id: uuid.UUID
    name: str


class VenueProfile(BaseModel):
    id: uuid.UUID
    name: str
    slug: str
    timezone: str
    currency: str
    group: VenueGroupRef
    #: The caller's role and permission flags at this venue.
    role: str
    permissions: list[str]
