"""The order state machine's table, pair by pair: every status against every action."""

from __future__ import annotations

import pytest

from orders import states
from tenancy import Permission, Problem

P = Permission
#: What each (status, action) must give: the new status, or the refusal's code.
EXPECTED: dict[tuple[str, str], str] = {
    ("placed", "start"): "preparing",
    ("placed", "mark_ready"): "illegal-transition",
    ("placed", "serve"): "illegal-transition",
    ("placed", "close"): "illegal-transition",
    ("placed", "cancel"): "cancelled",
    ("preparing", "start"): "illegal-transition",
    ("preparing", "mark_ready"): "ready",
    ("preparing", "serve"): "illegal-transition",
    ("preparing", "close"): "illegal-transition",
    ("preparing", "cancel"): "cancelled",
    ("ready", "start"): "illegal-transition",
    ("ready", "mark_ready"): "illegal-transition",
    ("ready", "serve"): "served",
    ("ready", "close"): "illegal-transition",
    ("ready", "cancel"): "cancelled",
    ("served", "start"): "illegal-transition",
    ("served", "mark_ready"): "illegal-transition",
    ("served", "serve"): "illegal-transition",
    ("served", "close"): "closed",
    ("served", "cancel"): "cancelled",
    **{("closed", action): "illegal-transition" for action in states.ACTIONS},
    **{("cancelled", action): "illegal-transition" for action in states.ACTIONS},
}


def outcome(status: states.Status, action: states.Action, held: Permission) -> str:
    try:
        return states.transition(status, action, held, reason="a reason").to
    except Problem as refusal:
        return refusal.code


def test_the_table_covers_every_status_and_action() -> None:
    """Given the statuses and actions, then the expectations name every pair once."""
    assert set(EXPECTED) == {(s, a) for s in states.STATUSES for a in states.ACTIONS}


@pytest.mark.parametrize(("pair", "expected"), sorted(EXPECTED.items()))
def test_each_pair_with_every_flag(
    pair: tuple[states.Status, states.Action], expected: str
) -> None:
    """Given a caller with every flag, when the action is asked of an order in the status,
    then the answer is the table's: the next status, or illegal-transition (409)."""
    assert outcome(pair[0], pair[1], P.all()) == expected


@pytest.mark.parametrize(("pair", "transition"), sorted(states.TRANSITIONS.items()))
def test_each_legal_transition_needs_its_flags(
    pair: tuple[states.Status, states.Action], transition: states.Transition
) -> None:
    """Given a legal transition, when the caller lacks any one of its flags, then it is
    refused with permission-denied naming that flag; a cancellation is always audited and
    needs a reason."""
    for flag in transition.needs:
        with pytest.raises(Problem) as refused:
            states.transition(pair[0], pair[1], P.all() & ~flag, reason="a reason")
        assert (refused.value.status, refused.value.code) == (403, "permission-denied")
        assert refused.value.extra["missing_permissions"] == [flag.name]
    if pair[1] == "cancel":
        assert transition.audited
        assert transition.needs_reason
        with pytest.raises(Problem) as unexplained:
            states.transition(pair[0], pair[1], P.all(), reason=None)
        assert unexplained.value.code == "reason-required"


def test_an_illegal_transition_says_what_is_allowed() -> None:
    """Given a placed order, when it is asked to close, then the 409 names its status and the
    actions it allows."""
    with pytest.raises(Problem) as refused:
        states.transition("placed", "close", P.all(), reason=None)

    assert refused.value.status == 409
    assert refused.value.extra == {"status_now": "placed", "allowed_actions": ["cancel", "start"]}
