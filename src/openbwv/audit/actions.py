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
    FLEET_CARTRIDGE_LOADED = "fleet:cartridge:loaded"
    FLEET_DEVICE_CREATED = "fleet:device:created"
    FLEET_DEVICE_ISSUED = "fleet:device:issued"
    FLEET_DEVICE_RETURNED = "fleet:device:returned"
    FLEET_DEVICE_STATE_CHANGED = "fleet:device:state_changed"
    FLEET_IMPORT_COMPLETED = "fleet:import:completed"
    FLEET_ROLLOUT_CHANGED = "fleet:rollout:changed"
    PEOPLE_OFFICER_CREATED = "people:officer:created"
    PEOPLE_OFFICER_UPDATED = "people:officer:updated"
    PEOPLE_UNIT_CREATED = "people:unit:created"
    TRAINING_AUTHORITY_CHECKED = "training:authority:checked"
    TRAINING_COURSE_CREATED = "training:course:created"
    TRAINING_PASS_RECORDED = "training:pass:recorded"
    TRAINING_POLICY_CHANGED = "training:policy:changed"
    TRAINING_VOLUNTEER_CHANGED = "training:volunteer:changed"
