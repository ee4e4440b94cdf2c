"""The order state machine, in one place: from-state x action -> to-state and the flag the
action needs. Every transition of every route and of the demo seed is looked up here."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from tenancy import Permission, Problem

Status = Literal["placed", "preparing", "ready", "served", "closed", "cancelled"]
Action = Literal["start", "mark_ready", "serve", "close", "cancel"]

STATUSES: tuple[Status, ...] = ("placed", "preparing", "ready", "served", "closed", "cancelled")
ACTIONS: tuple[Action, ...] = ("start", "mark_ready", "serve", "close", "cancel")


@dataclass(frozen=True)
class Transition:
    to: Status
    needs: Permission
    #: Beyond the normal flow: recorded in the audit trail in the same transaction.
    audited: bool = False
    #: The caller must say why (a cancellation).
    needs_reason: bool = False


P = Permission
#: (from, action) -> transition. A pair missing here is an illegal transition (409).
TRANSITIONS: dict[tuple[Status, Action], Transition] = {
    ("placed", "start"): Transition("preparing", P.TAKE_ORDERS),
    ("preparing", "mark_ready"): Transition("ready", P.TAKE_ORDERS),
    ("ready", "serve"): Transition("served", P.TAKE_ORDERS),
    ("served", "close"): Transition("closed", P.TAKE_ORDERS),
    # Nothing made yet: whoever takes orders may cancel it.
    ("placed", "cancel"): Transition("cancelled", P.TAKE_ORDERS, audited=True, needs_reason=True),
    # Once the kitchen has started, a cancellation writes off food: REFUND.
    ("preparing", "cancel"): Transition(
        "cancelled", P.TAKE_ORDERS | P.REFUND, audited=True, needs_reason=True
    ),
    ("ready", "cancel"): Transition(
        "cancelled", P.TAKE_ORDERS | P.REFUND, audited=True, needs_reason=True
    ),
    ("served", "cancel"): Transition(
        "cancelled", P.TAKE_ORDERS | P.REFUND, audited=True, needs_reason=True
    ),
}


def transition(current: Status, action: Action, held: Permission, reason: str | None) -> Transition:
    """The transition ``action`` makes from ``current`` for a caller holding ``held``, or the
    refusal: ``illegal-transition`` (409), ``permission-denied`` (403), ``reason-required``
    (422)."""
    found = TRANSITIONS.get((current, action))
    if found is None:
        allowed = sorted(a for (s, a) in TRANSITIONS if s == current)
        raise Problem(
            409,
            "illegal-transition",
            f"an order that is {current} cannot {action.replace('_', ' ')}",
            status_now=current,
            allowed_actions=allowed,
        )
    missing = found.needs & ~held
    if missing:
        raise Problem(
            403,
            "permission-denied",
            f"this needs the {', '.join(Permission(missing).names())} permission",
            missing_permissions=Permission(missing).names(),
        )
    if found.needs_reason and not reason:
        raise Problem(422, "reason-required", f"say why the order is to {action}")
    return found
