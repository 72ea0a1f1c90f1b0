"""The vocabulary of audited actions, ``domain:subject:action``."""

from enum import StrEnum


class AuditAction(StrEnum):
    AUTH_LOGIN_FAILED = "auth:login:failed"
    AUTH_LOGIN_LOCKED_OUT = "auth:login:locked_out"
    AUTH_LOGIN_SUCCEEDED = "auth:login:succeeded"
    AUTH_LOGOUT = "auth:session:ended"
    AUTH_USER_CREATED = "auth:user:created"
    AUTH_USER_DISABLED = "auth:user:disabled"
    AUTH_USER_ROLES_CHANGED = "auth:user:roles_changed"
    AUTHZ_ACCESS_REFUSED = "authz:access:refused"
    PEOPLE_OFFICER_CREATED = "people:officer:created"
    PEOPLE_OFFICER_UPDATED = "people:officer:updated"
    PEOPLE_UNIT_CREATED = "people:unit:created"
