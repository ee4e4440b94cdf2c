"""The platform area: onboarding venue groups and venues, and the accounts of the platform.

Only a platform admin whose session had a second factor gets in; every use writes a
critical audit event, and so does every refusal (a non-admin at these routes is worth an
alert). The database asks the same of every write (``app.binding_allows(-1)``)."""

from __future__ import annotations

import uuid
from typing import TYPE_CHECKING, Any

from platform_admin import queries
from platform_admin.models import (
    AccountStatus,
    CreatedVenue,
    NewVenue,
    NewVenueGroup,
    Owner,
    PlatformUser,
    PlatformUsersQuery,
    VenueGroup,
)
from tenancy import JsonDocument, NoBody, NoQuery, Permission, Problem, Role, UserRequest, not_found
from tenancy.audit import record
from tenancy.invitations import invite

if TYPE_CHECKING:
    from collections.abc import Callable

    from tenancy.invitations import Invitations


def refusal(holds_the_flag: bool) -> Problem:
    """Not a platform admin, or one whose sign-in had no second factor."""
    if holds_the_flag:
        return Problem(
            403,
            "mfa-required",
            "the platform area needs a sign-in with a second factor",
            keep_writes=True,
        )
    return Problem(403, "platform-admin-only", "this is for platform admins only", keep_writes=True)


def _admitted(request: UserRequest[Any, Any], row: dict[str, Any], route: str) -> None:
    """Refuse (committing the refusal's critical audit event) unless allowed."""
    if row["allowed"]:
        return
    record(
        request.db,
        action="platform.access_refused",
        venue_id=None,
        actor_user_id=request.user_id,
        target_type="platform",
        target_id=route,
        details={"route": route, "correlation_id": request.correlation_id},
        critical=True,
    )
    raise refusal(row["is_platform_admin"])


# --- reads ------------------------------------------------------------------------------


def _listed(request: UserRequest[Any, Any], row: dict[str, Any]) -> JsonDocument:
    if not row["allowed"]:
        raise refusal(row["is_platform_admin"])  # its event is already written
    return JsonDocument(row["document"])


def list_venues(request: UserRequest[NoQuery, NoBody]) -> JsonDocument:
    route = "GET /platform/venues"
    row = queries.read(
        request.db,
        queries.LIST_VENUES,
        actor=request.user_id,
        action="platform.venues_listed",
        route=route,
        details={"route": route, "correlation_id": request.correlation_id},
    )
    return _listed(request, row)


def list_users(request: UserRequest[PlatformUsersQuery, NoBody]) -> JsonDocument:
    route = "GET /platform/users"
    query = request.query
    row = queries.read(
        request.db,
        queries.LIST_USERS,
        actor=request.user_id,
        action="platform.users_listed",
        route=route,
        details={
            "route": route,
            "correlation_id": request.correlation_id,
            "after": query.after,
            "limit": query.limit,
        },
        after=query.after,
        limit=query.limit,
    )
    return _listed(request, row)


# --- writes -----------------------------------------------------------------------------


def create_group(request: UserRequest[NoQuery, NewVenueGroup]) -> VenueGroup:
    row = queries.context(request.db, queries.GROUP_CONTEXT, actor=request.user_id)
    _admitted(request, row, "POST /platform/venue-groups")
    group = VenueGroup(id=uuid.uuid4(), name=request.body.name, created_at=row["now"])
    request.db.execute(queries.INSERT_GROUP, (group.id, group.name, request.user_id))
    record(
        request.db,
        action="platform.venue_group_created",
        venue_id=None,
        actor_user_id=request.user_id,
        target_type="venue_group",
        target_id=group.id,
        details={"before": None, "after": {"name": group.name}},
        critical=True,
    )
    return group


def _invalid(field: str, message: str) -> Problem:
    return Problem(
        422,
        "invalid-body",
        "the body is not valid",
        errors=[{"field": field, "message": message, "type": "value_error"}],
    )


def create_venue(
    request: UserRequest[NoQuery, NewVenue], invitations: Callable[[], Invitations]
) -> CreatedVenue:
    """The venue, its settings (defaults) and its first owner (every flag): the account with
    the owner's email, or, when there is none, an invitation to it
    (``tenancy.invitations.invite``, the path every invitation takes)."""
    body = request.body
    request.db.execute(queries.SERIALISE_SLUG, {"key": f"venue-slug:{body.slug}"})
    row = queries.context(
        request.db,
        queries.VENUE_CONTEXT,
        actor=request.user_id,
        group=body.group_id,
        slug=body.slug,
        timezone=body.timezone,
        owner_email=body.owner_email,
    )
    _admitted(request, row, "POST /platform/venues")
    if not row["group_exists"]:
        raise not_found("venue group")
    if not row["timezone_known"]:
        raise _invalid("timezone", "not a time zone Postgres knows")
    if row["slug_taken"]:
        raise Problem(409, "slug-taken", "another venue has this slug")
    venue = CreatedVenue(
        id=uuid.uuid4(),
        group_id=body.group_id,
        name=body.name,
        slug=body.slug,
        timezone=body.timezone,
        currency=body.currency,
        owner=Owner(
            user_id=row["owner_id"],
            email=row["owner_email"] or body.owner_email,
            display_name=row["owner_display_name"],
        ),
        created_at=row["now"],
    )
    conn = request.db
    conn.execute(
        queries.INSERT_VENUE,
        {
            "id": venue.id,
            "group": venue.group_id,
            "name": venue.name,
            "slug": venue.slug,
            "timezone": venue.timezone,
            "currency": venue.currency,
            "actor": request.user_id,
        },
    )
    # From here the new venue is bound: its settings, its owner and the event pass the
    # ordinary venue policies (a platform admin with a second factor, at a venue that exists).
    request.act_at_created_venue(venue.id)
    conn.execute(queries.INSERT_SETTINGS, (venue.id,))
    if venue.owner.user_id is not None:
        conn.execute(queries.INSERT_OWNER, (venue.id, venue.owner.user_id, int(Permission.all())))
    else:
        invited = invite(
            conn,
            invitations(),
            venue_id=venue.id,
            venue_name=venue.name,
            email=venue.owner.email,
            role=Role.OWNER.value,
            flags=Permission.all(),
            actor_user_id=request.user_id,
            now=row["now"],
        )
        venue.owner = Owner(
            user_id=None,
            email=invited.email,
            display_name=None,
            status="invited",
            invitation_id=invited.invitation_id,
            expires_at=invited.expires_at,
        )
    record(
        conn,
        action="platform.venue_created",
        venue_id=venue.id,
        actor_user_id=request.user_id,
        target_type="venue",
        target_id=venue.id,
        details={
            "before": None,
            "after": {
                "group_id": str(venue.group_id),
                "name": venue.name,
                "slug": venue.slug,
                "timezone": venue.timezone,
                "currency": venue.currency,
                "owner_user_id": str(venue.owner.user_id) if venue.owner.user_id else None,
                "owner_invitation_id": (
                    str(venue.owner.invitation_id) if venue.owner.invitation_id else None
                ),
            },
        },
        critical=True,
    )
    return venue


def set_account_status(request: UserRequest[NoQuery, AccountStatus]) -> PlatformUser:
    """Disable an account (refused on every route from its next request, and at refresh) or
    enable it again. Never one's own."""
    target: uuid.UUID = request.path["user_id"]
    row = queries.context(request.db, queries.ACCOUNT_CONTEXT, actor=request.user_id, target=target)
    _admitted(request, row, "PATCH /platform/users/{user_id}")
    if target == request.user_id:
        raise Problem(403, "own-account", "nobody disables or enables their own account")
    if row["id"] is None:
        raise not_found("account")
    disabled = request.body.disabled
    request.db.execute(queries.SET_DISABLED, {"disabled": disabled, "user": target})
    record(
        request.db,
        action="platform.account_disabled" if disabled else "platform.account_enabled",
        venue_id=None,
        actor_user_id=request.user_id,
        target_type="user",
        target_id=target,
        details={"before": {"disabled": row["disabled"]}, "after": {"disabled": disabled}},
        critical=True,
    )
    return PlatformUser(
        id=target,
        email=row["email"],
        display_name=row["display_name"],
        is_platform_admin=row["target_is_platform_admin"],
        disabled=disabled,
        created_at=row["created_at"],
    )
