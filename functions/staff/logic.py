"""The rules of a venue's people: who may attach whom, with which role and flags, and the
staff roster. The routes and the demo seed (infra/local/seed.py) both come through here.

Rules (docs/decisions.md, "People"):

- nobody grants a flag they do not hold, nor a role whose default flags they do not hold;
- nobody changes, or removes, their own attachment;
- nobody changes or removes an attachment (or a member of staff) holding flags they lack;
- the last owner of a venue keeps the owner role and every flag, and stays attached;
- attaching an email no account has invites it (``tenancy.invitations``), under the same
  rules;
  the invitation is listed with the attachments and cancelled like one is detached.

Each change is two round trips: its read (with the gate's) and, once the rules pass, its
write and audit event, queued without waiting. A refused escalation writes its critical
audit event and nothing else (``Problem(..., keep_writes=True)``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol

import psycopg

from staff import queries
from staff.models import Attachment, StaffMember
from tenancy import ROLE_DEFAULTS, Permission, Problem, Role, VenueRequest, not_found
from tenancy.audit import record
from tenancy.invitations import delete_open_invitation
from tenancy.permissions import ungrantable

if TYPE_CHECKING:
    from tenancy.invitations import Invitations


@dataclass(frozen=True)
class Actor:
    """Who acts, and the flags they hold at the venue. ``flags`` is asked only once the
    first read is back, when the gate has decided (asking earlier would cost a round trip)."""

    user_id: uuid.UUID | None
    flags: Callable[[], Permission]

    @classmethod
    def of(cls, request: VenueRequest[Any, Any]) -> Actor:
        return cls(request.user_id, lambda: request.venue.permissions)


#: The platform itself (the demo seed, operations): every flag, no person.
PLATFORM = Actor(None, Permission.all)


class Refuse(Protocol):
    def __call__(self, problem: Problem, **details: Any) -> Problem: ...


def role_flags(role: str) -> Permission:
    """A role's default flags; a role this code does not know counts as every flag."""
    try:
        return ROLE_DEFAULTS[Role(role)]
    except ValueError:
        return Permission.all()


def _state(role: str, flags: Permission) -> dict[str, Any]:
    return {"role": role, "permissions": flags.names()}


def _refused(
    conn: psycopg.Connection,
    problem: Problem,
    *,
    venue_id: uuid.UUID,
    actor: Actor,
    attempt: str,
    target_type: str,
    target_id: uuid.UUID | None,
    details: Mapping[str, Any],
) -> Problem:
    """The refusal of an escalation attempt, with its critical audit event queued: the
    transaction commits that event and nothing else."""
    record(
        conn,
        action="staff.change_refused",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type=target_type,
        target_id=target_id,
        details={"attempt": attempt, "refusal": problem.code, **details},
        critical=True,
    )
    problem.keep_writes = True
    return problem


def _ungranted(kind: str, gap: Permission, what: str) -> Problem:
    return Problem(
        403,
        kind,
        f"you may not {what}: it needs {', '.join(gap.names())}, which you do not hold",
        ungrantable_permissions=gap.names(),
    )


def _own() -> Problem:
    return Problem(
        403, "own-attachment", "nobody changes their own attachment: ask another manager"
    )


def _outranks(gap: Permission) -> Problem:
    return Problem(
        403,
        "outranks-you",
        f"they hold {', '.join(gap.names())}, which you do not: you may not change them",
        ungrantable_permissions=gap.names(),
    )


def _last_owner() -> Problem:
    return Problem(
        409,
        "last-owner",
        "this is the venue's last owner: make someone else owner first",
    )


# --- attachments ------------------------------------------------------------------------


def attach(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    email: str,
    role: Role,
    permissions: Permission | None,
    actor: Actor,
    invitations: Callable[[], Invitations] | None = None,
) -> Attachment:
    """Attach the account with ``email`` to the venue, as ``role`` with its default flags
    (or ``permissions``); with no such account, invite the address (``invitations`` is
    asked for only then)."""
    row = queries.account_to_attach(conn, venue_id, email).fetchone()
    assert row is not None
    granter = actor.flags()
    flags = ROLE_DEFAULTS[role] if permissions is None else permissions
    after = _state(role.value, flags)
    user_id: uuid.UUID | None = row["user_id"]

    def refused(problem: Problem) -> Problem:
        return _refused(
            conn,
            problem,
            venue_id=venue_id,
            actor=actor,
            attempt="attach" if user_id is not None else "invite",
            target_type="user",
            target_id=user_id,
            details={"requested": after},
        )

    role_gap = ungrantable(granter, ROLE_DEFAULTS[role])
    if role_gap:
        raise refused(_ungranted("role-not-grantable", role_gap, f"make someone {role.value}"))
    flag_gap = ungrantable(granter, flags)
    if flag_gap:
        raise refused(_ungranted("permission-not-grantable", flag_gap, "grant these flags"))
    if user_id is None:
        if invitations is None:
            raise Problem(404, "no-such-account", "no account has this email")
        from tenancy.invitations import invite

        invited = invite(
            conn,
            invitations(),
            venue_id=venue_id,
            venue_name=row["venue_name"],
            email=email,
            role=role.value,
            flags=flags,
            actor_user_id=actor.user_id,
            now=row["now"],
            replaces=row["pending_invitation"],
        )
        return Attachment(
            user_id=None,
            email=email,
            display_name=None,
            role=role.value,
            permissions=flags.names(),
            account_disabled=False,
            created_at=invited.created_at,
            status="invited",
            invitation_id=invited.invitation_id,
            expires_at=invited.expires_at,
        )
    if user_id == actor.user_id:
        raise refused(_own())
    if row["attached"]:
        raise Problem(
            409,
            "already-attached",
            "this account is already attached to the venue: change its attachment instead",
        )
    replaced = row["pending_invitation"]
    if replaced is not None:
        # The address got an account since it was invited: the attachment replaces the
        # invitation, whose link stops working.
        delete_open_invitation(conn, venue_id, replaced)
    queries.insert_attachment(conn, venue_id, user_id, role.value, flags)
    record(
        conn,
        action="staff.attached",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="user",
        target_id=user_id,
        details={
            "before": None,
            "after": after,
            **({"replaced_invitation": str(replaced)} if replaced else {}),
        },
    )
    return Attachment(
        user_id=user_id,
        email=row["email"],
        display_name=row["display_name"],
        role=role.value,
        permissions=flags.names(),
        account_disabled=row["account_disabled"],
        created_at=row["now"],
    )


def _attachment_to_change(
    conn: psycopg.Connection, venue_id: uuid.UUID, user_id: uuid.UUID, actor: Actor, attempt: str
) -> tuple[dict[str, Any], Permission, Refuse]:
    """The attachment, locked, once the rules every change shares have passed."""
    row = queries.attachment_for_change(conn, venue_id, user_id).fetchone()
    granter = actor.flags()

    def refused(problem: Problem, **details: Any) -> Problem:
        return _refused(
            conn,
            problem,
            venue_id=venue_id,
            actor=actor,
            attempt=attempt,
            target_type="user",
            target_id=user_id,
            details=details,
        )

    if user_id == actor.user_id:
        raise refused(_own())
    if row is None:
        raise not_found("attachment")
    current = Permission(row["permissions"])
    gap = ungrantable(granter, current)
    if gap:
        raise refused(_outranks(gap))
    return row, granter, refused


def _full_owner(role: str, flags: Permission) -> bool:
    """An owner in the last-owner rule: the owner role with every flag of an owner."""
    return role == Role.OWNER and not ungrantable(flags, ROLE_DEFAULTS[Role.OWNER])


def change_attachment(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    user_id: uuid.UUID,
    role: Role | None,
    permissions: Permission | None,
    actor: Actor,
) -> Attachment:
    """A new role (with its default flags unless ``permissions`` is given), new flags, or
    both."""
    row, granter, refused = _attachment_to_change(conn, venue_id, user_id, actor, "change")
    before = _state(row["role"], Permission(row["permissions"]))
    new_role = row["role"] if role is None else role.value
    if permissions is not None:
        flags = permissions
    elif role is not None:
        flags = ROLE_DEFAULTS[role]
    else:
        flags = Permission(row["permissions"])
    after = _state(new_role, flags)
    if role is not None and role.value != row["role"]:
        role_gap = ungrantable(granter, ROLE_DEFAULTS[role])
        if role_gap:
            raise refused(
                _ungranted("role-not-grantable", role_gap, f"make someone {role.value}"),
                before=before,
                requested=after,
            )
    flag_gap = ungrantable(granter, flags)
    if flag_gap:
        raise refused(
            _ungranted("permission-not-grantable", flag_gap, "grant these flags"),
            before=before,
            requested=after,
        )
    if (
        _full_owner(row["role"], Permission(row["permissions"]))
        and row["owners"] <= 1
        and not _full_owner(new_role, flags)
    ):
        raise refused(_last_owner(), before=before, requested=after)
    queries.update_attachment(conn, venue_id, user_id, new_role, flags)
    record(
        conn,
        action="staff.attachment_changed",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="user",
        target_id=user_id,
        details={"before": before, "after": after},
    )
    return Attachment(
        user_id=user_id,
        email=row["email"],
        display_name=row["display_name"],
        role=new_role,
        permissions=flags.names(),
        account_disabled=row["account_disabled"],
        created_at=row["created_at"],
    )


def detach(
    conn: psycopg.Connection, *, venue_id: uuid.UUID, user_id: uuid.UUID, actor: Actor
) -> None:
    """Remove the account from the venue; its next request there is refused. Given the id
    of an open invitation instead, cancel it: its link stops working."""
    invitation = queries.pending_invitation(conn, venue_id, user_id)
    try:
        row, _, refused = _attachment_to_change(conn, venue_id, user_id, actor, "detach")
    except Problem as problem:
        pending = invitation.fetchone()
        if problem.code != "not-found" or pending is None:
            raise
        _cancel(conn, venue_id, pending, actor)
        return
    before = _state(row["role"], Permission(row["permissions"]))
    if _full_owner(row["role"], Permission(row["permissions"])) and row["owners"] <= 1:
        raise refused(_last_owner(), before=before)
    queries.delete_attachment(conn, venue_id, user_id)
    record(
        conn,
        action="staff.detached",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="user",
        target_id=user_id,
        details={"before": before, "after": None},
    )


def _cancel(
    conn: psycopg.Connection, venue_id: uuid.UUID, invitation: Mapping[str, Any], actor: Actor
) -> None:
    """Cancel an open invitation; not one for more flags than the canceller holds."""
    flags = Permission(invitation["permissions"])
    before = _state(invitation["role"], flags)
    gap = ungrantable(actor.flags(), flags)
    if gap:
        raise _refused(
            conn,
            _outranks(gap),
            venue_id=venue_id,
            actor=actor,
            attempt="cancel_invitation",
            target_type="invitation",
            target_id=invitation["id"],
            details={"before": before},
        )
    delete_open_invitation(conn, venue_id, invitation["id"])
    record(
        conn,
        action="staff.invitation_cancelled",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="invitation",
        target_id=invitation["id"],
        details={"email": invitation["email"], "before": before, "after": None},
    )


# --- the staff roster -------------------------------------------------------------------


def _not_attached() -> Problem:
    return Problem(
        422,
        "user-not-attached",
        "a member of staff can be linked only to an account attached to this venue",
    )


def _member(staff_id: uuid.UUID, state: Mapping[str, Any], created_at: dt.datetime) -> StaffMember:
    return StaffMember(id=staff_id, created_at=created_at, **state)


def add_staff_member(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    display_name: str,
    role: Role,
    user_id: uuid.UUID | None,
    actor: Actor,
) -> StaffMember:
    """A new, active member of the venue's staff."""
    row = queries.new_staff_context(conn, venue_id, user_id).fetchone()
    assert row is not None
    granter = actor.flags()
    after = {"display_name": display_name, "role": role.value, "user_id": user_id, "active": True}
    role_gap = ungrantable(granter, ROLE_DEFAULTS[role])
    if role_gap:
        raise _refused(
            conn,
            _ungranted("role-not-grantable", role_gap, f"add a member of staff as {role.value}"),
            venue_id=venue_id,
            actor=actor,
            attempt="add_staff_member",
            target_type="staff_member",
            target_id=None,
            details={"requested": _audited(after)},
        )
    if not row["user_attached"]:
        raise _not_attached()
    staff_id = uuid.uuid4()
    queries.insert_staff(
        conn,
        staff_id=staff_id,
        venue_id=venue_id,
        user_id=user_id,
        display_name=display_name,
        role=role.value,
    )
    record(
        conn,
        action="staff.member_added",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="staff_member",
        target_id=staff_id,
        details={"before": None, "after": _audited(after)},
    )
    return _member(staff_id, after, row["now"])


def _audited(state: Mapping[str, Any]) -> dict[str, Any]:
    """A member's state as JSON values."""
    return {k: str(v) if isinstance(v, uuid.UUID) else v for k, v in state.items()}


def change_staff_member(
    conn: psycopg.Connection,
    *,
    venue_id: uuid.UUID,
    staff_id: uuid.UUID,
    changes: Mapping[str, Any],
    actor: Actor,
) -> StaffMember:
    """Apply ``changes`` (any of display_name, role, user_id, active) to the member."""
    link = changes.get("user_id")
    row = queries.staff_for_change(conn, venue_id, staff_id, link).fetchone()
    granter = actor.flags()
    if row is None:
        raise not_found("staff member")
    before = {k: row[k] for k in ("display_name", "role", "user_id", "active")}
    after = {**before, **changes}
    if isinstance(after["role"], Role):
        after["role"] = after["role"].value

    def refused(problem: Problem) -> Problem:
        return _refused(
            conn,
            problem,
            venue_id=venue_id,
            actor=actor,
            attempt="change_staff_member",
            target_type="staff_member",
            target_id=staff_id,
            details={"before": _audited(before), "requested": _audited(after)},
        )

    gap = ungrantable(granter, role_flags(before["role"]))
    if gap:
        raise refused(_outranks(gap))
    role_gap = ungrantable(granter, role_flags(after["role"]))
    if role_gap:
        raise refused(
            _ungranted("role-not-grantable", role_gap, f"make a member of staff {after['role']}")
        )
    if link is not None and not row["user_attached"]:
        raise _not_attached()
    queries.update_staff(
        conn,
        staff_id=staff_id,
        venue_id=venue_id,
        user_id=after["user_id"],
        display_name=after["display_name"],
        role=after["role"],
        active=after["active"],
    )
    record(
        conn,
        action="staff.member_changed",
        venue_id=venue_id,
        actor_user_id=actor.user_id,
        target_type="staff_member",
        target_id=staff_id,
        details={"before": _audited(before), "after": _audited(after)},
    )
    return _member(staff_id, after, row["created_at"])
