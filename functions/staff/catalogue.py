"""What each permission flag means, as the role catalogue shows it."""

from tenancy import Permission

MEANINGS: dict[Permission, str] = {
    Permission.VIEW_ORDERS: "See the orders queue",
    Permission.TAKE_ORDERS: "Take orders and change them",
    Permission.EDIT_MENU: "Edit the menu of the group's catalogue",
    Permission.EDIT_PRICES: "Set this venue's prices",
    Permission.MANAGE_STAFF: "Attach and detach accounts, manage the staff roster",
    Permission.VIEW_SALES: "See sales figures",
    Permission.OPEN_SHIFT: "Open a shift",
    Permission.CLOSE_SHIFT: "Close a shift",
    Permission.REOPEN_SHIFT: "Reopen a closed shift",
    Permission.REFUND: "Refund a payment",
    Permission.MANAGE_SETTINGS: "Change the venue's settings",
    Permission.VIEW_AUDIT: "Read the venue's audit trail",
    Permission.MANAGE_PAYMENTS: "Manage the venue's payment account",
    Permission.MANAGE_GROUP: "Edit what the group shares: its recipes and suppliers",
}
