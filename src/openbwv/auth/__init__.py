"""Accounts, sign-in, tokens and device credentials: who a credential signs in."""

from openbwv.auth.callers import identify_caller
from openbwv.auth.devices import (
    is_device_credential,
    issue_device_credential,
    live_device_credential,
    note_device_credential_used,
    resolve_device_credential,
    revoke_device_credential,
)
from openbwv.auth.models import DeviceCredential, UserAccount
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
    "DeviceCredential",
    "LoginPolicy",
    "UserAccount",
    "actor_for",
    "check_password_strength",
    "create_user",
    "disable_user",
    "end_session",
    "get_user",
    "identify_caller",
    "is_device_credential",
    "issue_device_credential",
    "issue_token",
    "list_users",
    "live_device_credential",
    "note_device_credential_used",
    "parse_roles",
    "resolve_device_credential",
    "revoke_device_credential",
    "revoke_token",
    "set_roles",
    "sign_in",
]
