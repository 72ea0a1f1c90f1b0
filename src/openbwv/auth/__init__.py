"""Accounts, sign-in, tokens, and the dependencies routes use to declare who may call them."""

from openbwv.auth.deps import (
    SESSION_COOKIE,
    Public,
    Require,
    RequirePermission,
    RequirePermissionUnlessPublic,
    RequireUnlessPublic,
    current_actor,
)
from openbwv.auth.models import UserAccount
from openbwv.auth.service import (
    LoginPolicy,
    actor_for,
    check_password_strength,
    create_user,
    disable_user,
    end_session,
    get_user,
    issue_token,
    list_users,
    parse_roles,
    revoke_token,
    set_roles,
    sign_in,
)

__all__ = [
    "SESSION_COOKIE",
    "LoginPolicy",
    "Public",
    "Require",
    "RequirePermission",
    "RequirePermissionUnlessPublic",
    "RequireUnlessPublic",
    "UserAccount",
    "actor_for",
    "check_password_strength",
    "create_user",
    "current_actor",
    "disable_user",
    "end_session",
    "get_user",
    "issue_token",
    "list_users",
    "parse_roles",
    "revoke_token",
    "set_roles",
    "sign_in",
]
