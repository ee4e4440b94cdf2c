"""Permission flags and the platform's role catalogue (docs/architecture.md, "Roles and
permission flags")."""

from __future__ import annotations

import enum
from collections.abc import Iterable

__all__ = [
    "ELEVATED",
    "FLAG_PARAMS",
    "NO_PERMISSION",
    "ROLE_DEFAULTS",
    "Permission",
    "Role",
    "ungrantable",
]


class Permission(enum.IntFlag):
    """What a person may do at one venue; stored as a bigint on their attachment.

    Values are part of the stored data: append new flags, never renumber.
    """

    VIEW_ORDERS = 1 << 0
    TAKE_ORDERS = 1 << 1
    EDIT_MENU = 1 << 2
    EDIT_PRICES = 1 << 3
    MANAGE_STAFF = 1 << 4
    VIEW_SALES = 1 << 5
    OPEN_SHIFT = 1 << 6
    CLOSE_SHIFT = 1 << 7
    REOPEN_SHIFT = 1 << 8
    REFUND = 1 << 9
    MANAGE_SETTINGS = 1 << 10
    VIEW_AUDIT = 1 << 11
    MANAGE_PAYMENTS = 1 << 12
    #: Edit what the venue's group shares (its recipe library and supplier list); by
    #: default the owner's alone, at every venue of the group they own.
    MANAGE_GROUP = 1 << 13

    @classmethod
    def all(cls) -> Permission:
        value = cls(0)
        for flag in cls:
            value |= flag
        return value

    def names(self) -> list[str]:
        """Flag names in declaration order, as shown to clients."""
        return [flag.name for flag in Permission if flag in self and flag.name]


NO_PERMISSION = Permission(0)

#: Flag names and values, lowest bit first: how a query names a stored bigint's flags in
#: Postgres (``unnest(%(flag_names)s::text[], %(flag_values)s::bigint[])``), in the order
#: of ``Permission.names``.
FLAG_PARAMS: dict[str, list[str] | list[int]] = {
    "flag_names": [flag.name for flag in Permission if flag.name],
    "flag_values": [int(flag) for flag in Permission if flag.name],
}


class Role(enum.StrEnum):
    OWNER = "owner"
    REGIONAL_MANAGER = "regional_manager"
    MANAGER = "manager"
    HEAD_CHEF = "head_chef"
    CHEF = "chef"
    WAITER = "waiter"
    CASUAL = "casual"


P = Permission
_MANAGER = (
    P.VIEW_ORDERS
    | P.TAKE_ORDERS
    | P.EDIT_MENU
    | P.EDIT_PRICES
    | P.MANAGE_STAFF
    | P.VIEW_SALES
    | P.OPEN_SHIFT
    | P.CLOSE_SHIFT
    | P.REOPEN_SHIFT
    | P.REFUND
    | P.MANAGE_SETTINGS
    | P.VIEW_AUDIT
)

ROLE_DEFAULTS: dict[Role, Permission] = {
    Role.OWNER: Permission.all(),
    Role.REGIONAL_MANAGER: _MANAGER,
    Role.MANAGER: _MANAGER,
    # A head chef runs the kitchen and the menu, but cannot reopen a closed shift or refund.
    Role.HEAD_CHEF: P.VIEW_ORDERS | P.EDIT_MENU | P.EDIT_PRICES | P.OPEN_SHIFT | P.CLOSE_SHIFT,
    Role.CHEF: P.VIEW_ORDERS | P.EDIT_MENU,
    # A waiter takes orders but cannot change prices.
    Role.WAITER: P.VIEW_ORDERS | P.TAKE_ORDERS | P.OPEN_SHIFT,
    # A casual sees the orders queue and nothing else.
    Role.CASUAL: P.VIEW_ORDERS,
}
del P


#: Flags that make an account privileged: its password must meet the stronger policy.
ELEVATED = Permission.all() & ~(
    Permission.VIEW_ORDERS | Permission.TAKE_ORDERS | Permission.OPEN_SHIFT
)


def ungrantable(granter: Permission, requested: Iterable[Permission] | Permission) -> Permission:
    """The flags of ``requested`` the granter lacks; empty means the grant is allowed.

    Nobody can grant a flag they do not hold themselves.
    """
    wanted = Permission(0)
    if isinstance(requested, Permission):
        wanted = requested
    else:
        for flag in requested:
            wanted |= flag
    return wanted & ~granter
