"""Who may do what: the rules (pure, in ``rules``) and the declarations routes make with them
(``Require``, ``RequireDevice``, ``RequireUnlessPublic``, ``Public``, in ``routes``)."""

from openbwv.policy.routes import (
    CallerServices,
    Public,
    Require,
    RequireDevice,
    RequireDeviceScope,
    RequirePermission,
    RequirePermissionUnlessPublic,
    RequireUnlessPublic,
    current_actor,
    optional_actor,
    public,
)
from openbwv.policy.rules import (
    ROLE_DESCRIPTIONS,
    ROLE_PERMISSIONS,
    SYSTEM,
    Actor,
    DeviceScope,
    Permission,
    Role,
    can,
    device_actor,
    device_may,
)

__all__ = [
    "ROLE_DESCRIPTIONS",
    "ROLE_PERMISSIONS",
    "SYSTEM",
    "Actor",
    "CallerServices",
    "DeviceScope",
    "Permission",
    "Public",
    "Require",
    "RequireDevice",
    "RequireDeviceScope",
    "RequirePermission",
    "RequirePermissionUnlessPublic",
    "RequireUnlessPublic",
    "Role",
    "can",
    "current_actor",
    "device_actor",
    "device_may",
    "optional_actor",
    "public",
]
