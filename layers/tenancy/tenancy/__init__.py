"""The request gate and what every function shares (docs/architecture.md, "The request gate").

Handlers import from here only: ``from tenancy import venue_route, Permission, ...``.
"""

from tenancy.gate import (
    Access,
    DbRole,
    DeviceRequest,
    FormBody,
    HtmlPage,
    JsonDocument,
    Need,
    NoBody,
    NoQuery,
    RawQuery,
    Redirect,
    Request,
    Route,
    RouteSpec,
    SignedPayload,
    StrictBody,
    UserRequest,
    VenueAccess,
    VenueRequest,
    device_route,
    public_route,
    user_route,
    venue_route,
)
from tenancy.permissions import ROLE_DEFAULTS, Permission, Role
from tenancy.problems import Problem, not_found

__all__ = [
    "ROLE_DEFAULTS",
    "Access",
    "DbRole",
    "DeviceRequest",
    "FormBody",
    "HtmlPage",
    "JsonDocument",
    "Need",
    "NoBody",
    "NoQuery",
    "Permission",
    "Problem",
    "RawQuery",
    "Redirect",
    "Request",
    "Role",
    "Route",
    "RouteSpec",
    "SignedPayload",
    "StrictBody",
    "UserRequest",
    "VenueAccess",
    "VenueRequest",
    "device_route",
    "not_found",
    "public_route",
    "user_route",
    "venue_route",
]
