"""The role catalogue keeps the promises of docs/architecture.md, "Roles and permission flags"."""

from tenancy.permissions import ROLE_DEFAULTS, Permission, Role, ungrantable


def test_every_role_has_defaults() -> None:
    assert set(ROLE_DEFAULTS) == set(Role)


def test_a_casual_sees_the_orders_queue_and_nothing_else() -> None:
    assert ROLE_DEFAULTS[Role.CASUAL] == Permission.VIEW_ORDERS


def test_a_waiter_cannot_edit_prices() -> None:
    assert Permission.EDIT_PRICES not in ROLE_DEFAULTS[Role.WAITER]
    assert Permission.TAKE_ORDERS in ROLE_DEFAULTS[Role.WAITER]


def test_a_head_chef_cannot_reopen_a_closed_shift() -> None:
    assert Permission.REOPEN_SHIFT not in ROLE_DEFAULTS[Role.HEAD_CHEF]
    assert Permission.CLOSE_SHIFT in ROLE_DEFAULTS[Role.HEAD_CHEF]


def test_the_owner_holds_every_flag() -> None:
    assert ROLE_DEFAULTS[Role.OWNER] == Permission.all()


def test_nobody_can_grant_a_flag_they_do_not_hold() -> None:
    """Given a manager (no MANAGE_PAYMENTS), granting a waiter's flags is allowed but
    granting MANAGE_PAYMENTS is refused, naming the flag."""
    manager = ROLE_DEFAULTS[Role.MANAGER]

    assert ungrantable(manager, ROLE_DEFAULTS[Role.WAITER]) == Permission(0)
    assert ungrantable(manager, [Permission.VIEW_ORDERS, Permission.MANAGE_PAYMENTS]) == (
        Permission.MANAGE_PAYMENTS
    )


def test_flag_values_are_stable() -> None:
    """Flags are stored as bigints: renumbering one would silently change people's rights."""
    assert [(f.name, f.value) for f in Permission][:4] == [
        ("VIEW_ORDERS", 1),
        ("TAKE_ORDERS", 2),
        ("EDIT_MENU", 4),
        ("EDIT_PRICES", 8),
    ]
    assert Permission.MANAGE_PAYMENTS.value == 1 << 12
