"""The venue switcher: where the caller may work, and as what."""

from account import queries
from account.models import CurrentVenue
from tenancy import JsonDocument, NoBody, NoQuery, UserRequest
from tenancy.audit import record
from tenancy.problems import venue_access_denied


def venue_choices(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    """Attached venues; a platform admin also sees every other venue, marked as such."""
    return queries.venue_choices_json(request.db, request.user_id)


def pick_current_venue(request: UserRequest[NoQuery, CurrentVenue]) -> CurrentVenue:
    """Remember the venue the person picked: one they are attached to, or any venue for a
    platform admin with a second factor. Anything else is the venue refusal, the same for
    a venue that does not exist."""
    venue_id = request.body.venue_id
    row = queries.pick_context(request.db, request.user_id, venue_id)
    assert row is not None
    if not (row["attached"] or row["as_platform_admin"]):
        raise venue_access_denied()
    queries.pick(request.db, request.user_id, venue_id)
    previous = row["previous"]
    record(
        request.db,
        action="account.current_venue_picked",
        venue_id=None,
        actor_user_id=request.user_id,
        target_type="user",
        target_id=request.user_id,
        details={
            "before": None if previous is None else str(previous),
            "after": str(venue_id),
        },
    )
    return CurrentVenue(venue_id=venue_id)
