"""GET /venues/{venue_id}: the venue's profile and what the caller may do there."""

from tenancy import NoBody, NoQuery, VenueRequest, not_found, venue_route
from venues import queries
from venues.models import VenueGroupRef, VenueProfile


@venue_route(
    "GET",
    "/venues/{venue_id}",
    summary="Venue profile and the caller's role",
    response=VenueProfile,
)
def handler(request: VenueRequest[NoQuery, NoBody]) -> VenueProfile:
    row = queries.venue_profile(request.db, request.venue_id)
    if row is None:
        raise not_found("venue")
    return VenueProfile(
        id=row["id"],
        name=row["name"],
        slug=row["slug"],
        timezone=row["timezone"],
        currency=row["currency"].strip(),
        group=VenueGroupRef(id=row["group_id"], name=row["group_name"]),
        role=request.venue.role,
        permissions=request.venue.permissions.names(),
    )
