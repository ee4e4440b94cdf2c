"""A route's declaration states what its function needs from AWS (``needs``)."""

from __future__ import annotations

from typing import Any

import pytest

from tenancy import DbRole, Need, NoBody, NoQuery, Request, public_route, user_route


def _body(request: Request[NoQuery, NoBody]) -> None:
    return None


def test_needs_are_declared_as_a_set_and_kept_as_a_frozenset() -> None:
    """Given a route declared with a set of needs, when it is declared, then its spec holds
    them as a frozenset of Need members."""
    route = user_route(
        "POST", "/me/example", summary="example", database=DbRole.ISSUER, needs={Need.APP_KEYS}
    )(_body)

    assert route.spec.needs == frozenset({Need.APP_KEYS})
    assert isinstance(route.spec.needs, frozenset)


def test_a_route_that_declares_no_needs_has_none() -> None:
    """Given a route declared without needs, when it is declared, then it needs nothing
    from AWS beyond its database and the binding key."""
    route = public_route("GET", "/example", summary="example", database=None)(_body)

    assert route.spec.needs == frozenset()


@pytest.mark.parametrize(
    ("needs", "message"),
    [
        ({"app-keys"}, "tenancy.Need members"),
        ({Need.SIGNING_KEY, Need.PUBLIC_KEYS}, "SIGNING_KEY includes PUBLIC_KEYS"),
    ],
    ids=["a plain string", "signing and publishing"],
)
def test_a_need_that_is_not_a_member_or_is_redundant_is_refused(
    needs: set[Any], message: str
) -> None:
    """Given needs that are not Need members, or that name the signing key twice over, when
    the route is declared, then the declaration is refused, naming the mistake."""
    with pytest.raises(ValueError, match=message):
        public_route("GET", "/example", summary="example", database=None, needs=needs)
