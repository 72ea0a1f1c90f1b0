"""Who may do what: roles, permissions and the one function that decides.

Pure: no database and no web framework here, so every rule can be read as the role matrix below
and tested without a server. Routes declare a permission with ``openbwv.policy.Require``.

A device (a camera or a dock signed in with its credential) is an ``Actor`` with no roles, so every
person route refuses it; device routes declare a ``DeviceScope`` with ``openbwv.policy.RequireDevice``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    AUDITOR = "auditor"
    CONTROL_ROOM = "control_room"
    EQUIPMENT_MANAGER = "equipment_manager"
    EVIDENCE_MANAGER = "evidence_manager"
    INVESTIGATOR = "investigator"
    OFFICER = "officer"
    PANEL_MEMBER = "panel_member"
    PCC_OFFICE = "pcc_office"
    PROFESSIONAL_STANDARDS = "professional_standards"
    PROSECUTOR = "prosecutor"
    SUPERVISOR = "supervisor"
    TRAINING_MANAGER = "training_manager"


class Permission(StrEnum):
    ACCESS_GRANT_OVERSEE = "access:grant:oversee"
    ACCESS_GRANT_READ = "access:grant:read"
    ACCESS_GRANT_REQUEST = "access:grant:request"
    ACCESS_REASON_READ = "access:reason:read"
    ACCESS_REASON_WRITE = "access:reason:write"
    AUDIT_ALERT_HANDLE = "audit:alert:handle"
    AUDIT_ALERT_READ = "audit:alert:read"
    AUDIT_ALERT_RULE_WRITE = "audit:alert_rule:write"
    AUDIT_EVENT_READ = "audit:event:read"
    FLEET_DEVICE_READ = "fleet:device:read"
    FLEET_DEVICE_WRITE = "fleet:device:write"
    FLEET_IMPORT_WRITE = "fleet:import:write"
    FLEET_ISSUE_WRITE = "fleet:issue:write"
    FOOTAGE_ARRIVALS_READ = "footage:arrivals:read"
    FOOTAGE_CLIP_PLAY = "footage:clip:play"
    FOOTAGE_CLIP_SEARCH = "footage:clip:search"
    FOOTAGE_CLIP_TAG = "footage:clip:tag"
    FOOTAGE_CLIP_VIEW = "footage:clip:view"
    FOOTAGE_EVIDENCE_MANAGE = "footage:evidence:manage"
    FOOTAGE_RETENTION_MANAGE = "footage:retention:manage"
    FOOTAGE_TEAM_TAG = "footage:team:tag"
    LIVE_MAP_READ = "live:map:read"
    LIVE_VIEW_END = "live:view:end"
    LIVE_VIEW_OPEN = "live:view:open"
    NOTIFICATIONS_OWN_READ = "notifications:own:read"
    NOTIFICATIONS_UNIT_READ = "notifications:unit:read"
    PEOPLE_OFFICER_READ = "people:officer:read"
    PEOPLE_OFFICER_WRITE = "people:officer:write"
    PEOPLE_UNIT_READ = "people:unit:read"
    PEOPLE_UNIT_WRITE = "people:unit:write"
    SELF_PASSWORD_WRITE = "self:password:write"
    SELF_READ = "self:profile:read"
    TASER_DEPLOYMENT_FILE = "taser:deployment:file"
    TASER_DEPLOYMENT_FILE_ANY = "taser:deployment:file_any"
    TASER_DEPLOYMENT_READ = "taser:deployment:read"
    TASER_DEPLOYMENT_READ_OWN = "taser:deployment:read_own"
    TASER_DEPLOYMENT_SIGN_OFF = "taser:deployment:sign_off"
    TASER_DEVICE_LOG_IMPORT = "taser:device_log:import"
    TASER_DEVICE_LOG_READ = "taser:device_log:read"
    TASER_EXCEPTION_EXPLAIN = "taser:exception:explain"
    TASER_EXCEPTION_READ = "taser:exception:read"
    TASER_FIGURES_READ = "taser:figures:read"
    TASER_FIGURES_READ_INTERNAL = "taser:figures:read_internal"
    TASER_POPULATION_WRITE = "taser:population:write"
    TASER_RECORD_COMMAND_READ = "taser:record_command:read"
    TASER_SETTINGS_WRITE = "taser:settings:write"
    TRAINING_POLICY_WRITE = "training:policy:write"
    TRAINING_RECORD_READ = "training:record:read"
    TRAINING_RECORD_WRITE = "training:record:write"
    USERS_ACCOUNT_READ = "users:account:read"
    USERS_ACCOUNT_WRITE = "users:account:write"


class DeviceScope(StrEnum):
    """What a device credential lets a device do."""

    LIVE_INGEST = "live_ingest"
    TELEMETRY = "telemetry"
    UPLOAD = "upload"


_EVERYONE = frozenset(
    {Permission.NOTIFICATIONS_OWN_READ, Permission.SELF_PASSWORD_WRITE, Permission.SELF_READ}
)
_FORCE_STAFF = _EVERYONE | {Permission.PEOPLE_OFFICER_READ, Permission.PEOPLE_UNIT_READ}
_FLEET_READERS = _FORCE_STAFF | {Permission.FLEET_DEVICE_READ, Permission.TRAINING_RECORD_READ}
# Whoever will view footage or live video states a reason for access first, and reads the reasons.
_ACCESS_REQUESTERS = frozenset({Permission.ACCESS_GRANT_REQUEST, Permission.ACCESS_REASON_READ})
# Oversight reads everyone's grants (and the reasons they name); professional standards also end them.
_ACCESS_READERS = frozenset({Permission.ACCESS_GRANT_READ, Permission.ACCESS_REASON_READ})
# Searching footage shows only the clips the record rules let the caller see (``records``): no role
# below sees every clip. An officer sees their own, a supervisor their team's, an evidence manager
# the clips of cases they hold, those held for review and those they hold a grant of access to,
# professional standards those they hold a grant to under a complaint or conduct reason.
_FOOTAGE_SEARCHERS = frozenset({Permission.FOOTAGE_CLIP_SEARCH})
# Tagging (category, incident number) is done on the clips the caller may see under those record
# rules: an officer tags their own, a supervisor their team's. Evidence managers flag evidence, place
# legal holds, link cases and restore deleted clips force-wide: they act on a clip's keeping, not its
# pictures, and every act is audited.
_FOOTAGE_TAGGERS = frozenset({Permission.FOOTAGE_CLIP_TAG})
_FOOTAGE_KEEPERS = frozenset(
    {Permission.FOOTAGE_CLIP_TAG, Permission.FOOTAGE_EVIDENCE_MANAGE, Permission.FOOTAGE_RETENTION_MANAGE}
)
# Playing or downloading a clip from the library, under the same record rules and always with a
# stated reason (a grant of access). Panel members and prosecutors never see footage through the
# library: redacted copies and court bundles reach them another way.
_FOOTAGE_PLAYERS = _FOOTAGE_SEARCHERS | {Permission.FOOTAGE_CLIP_PLAY}
# Watching a recording camera live, always with a stated operational reason (a grant of access), and
# ending one's own view. Professional standards end anyone's view but open none.
_LIVE_VIEWERS = frozenset({Permission.LIVE_VIEW_END, Permission.LIVE_VIEW_OPEN})
# An officer files Taser deployment reports for themselves and reaches the read routes, where a
# record rule shows them their own; a supervisor files for any officer, reads every report, signs
# reports off or returns them, and reads the exceptions; professional standards read every report,
# explain exceptions and set the numbers the Taser rules read (radii, windows, grace periods). Both
# read which cameras an armed Taser told to record.
_TASER_FILERS = frozenset({Permission.TASER_DEPLOYMENT_FILE, Permission.TASER_DEPLOYMENT_READ_OWN})
_TASER_READERS = frozenset({Permission.TASER_DEPLOYMENT_READ, Permission.TASER_DEPLOYMENT_READ_OWN})
# Equipment managers import the Tasers' own logs (they hold the handles and their docks); they,
# supervisors and professional standards read the entries that reports are reconciled against.
_TASER_LOG_READERS = frozenset({Permission.TASER_DEVICE_LOG_READ})
# Figures of Taser use: the PCC's office reads them as the force shares them outside, counts under
# the threshold suppressed and nothing about an officer; supervisors and professional standards
# also read the exact counts and the figures by officer.
_TASER_FIGURES_SHARED = frozenset({Permission.TASER_FIGURES_READ})
_TASER_FIGURES_INTERNAL = _TASER_FIGURES_SHARED | {Permission.TASER_FIGURES_READ_INTERNAL}

ROLE_PERMISSIONS: dict[Role, frozenset[Permission]] = {
    Role.ADMIN: frozenset(Permission),
    Role.AUDITOR: _FORCE_STAFF | _ACCESS_READERS | {Permission.AUDIT_EVENT_READ},
    Role.CONTROL_ROOM: _FLEET_READERS | _ACCESS_REQUESTERS | _LIVE_VIEWERS | {Permission.LIVE_MAP_READ},
    Role.EQUIPMENT_MANAGER: _FLEET_READERS
    | _TASER_LOG_READERS
    | {
        Permission.FLEET_DEVICE_WRITE,
        Permission.FLEET_IMPORT_WRITE,
        Permission.FLEET_ISSUE_WRITE,
        Permission.TASER_DEVICE_LOG_IMPORT,
    },
    # Evidence managers watch the library fill: the arrivals list shows recent clips' metadata (time,
    # camera, officer, ingest state), never a picture, and every view of it is audited.
    Role.EVIDENCE_MANAGER: _FORCE_STAFF
    | _ACCESS_REQUESTERS
    | _FOOTAGE_PLAYERS
    | _FOOTAGE_KEEPERS
    | {Permission.FOOTAGE_ARRIVALS_READ},
    # Investigators (detectives, case officers) find and play footage of the cases they hold and
    # the clips they hold a grant of access to; they tag nothing and keep nothing.
    Role.INVESTIGATOR: _FORCE_STAFF | _ACCESS_REQUESTERS | _FOOTAGE_PLAYERS,
    Role.OFFICER: _EVERYONE | _ACCESS_REQUESTERS | _FOOTAGE_PLAYERS | _FOOTAGE_TAGGERS | _TASER_FILERS,
    Role.PANEL_MEMBER: _EVERYONE | _ACCESS_REQUESTERS | _FOOTAGE_SEARCHERS,
    Role.PCC_OFFICE: _EVERYONE | _TASER_FIGURES_SHARED,
    # Professional standards own misuse detection: they handle the alerts (acknowledge, note, close
    # with an outcome) and tune the rules' thresholds, which decide what reaches them; every change of
    # a threshold is an audit event that auditors read. Auditors read the log but handle no alert.
    Role.PROFESSIONAL_STANDARDS: _FLEET_READERS
    | _ACCESS_REQUESTERS
    | _ACCESS_READERS
    | _FOOTAGE_PLAYERS
    | _TASER_READERS
    | _TASER_LOG_READERS
    | _TASER_FIGURES_INTERNAL
    | {
        Permission.ACCESS_GRANT_OVERSEE,
        Permission.AUDIT_ALERT_HANDLE,
        Permission.AUDIT_ALERT_READ,
        Permission.AUDIT_ALERT_RULE_WRITE,
        Permission.AUDIT_EVENT_READ,
        Permission.LIVE_VIEW_END,
        Permission.TASER_EXCEPTION_EXPLAIN,
        Permission.TASER_EXCEPTION_READ,
        Permission.TASER_POPULATION_WRITE,
        Permission.TASER_RECORD_COMMAND_READ,
        Permission.TASER_SETTINGS_WRITE,
    },
    Role.PROSECUTOR: _EVERYONE,
    Role.SUPERVISOR: _FLEET_READERS
    | _ACCESS_REQUESTERS
    | _FOOTAGE_PLAYERS
    | _FOOTAGE_TAGGERS
    | _LIVE_VIEWERS
    | _TASER_FILERS
    | _TASER_READERS
    | _TASER_LOG_READERS
    | _TASER_FIGURES_INTERNAL
    | {
        Permission.FOOTAGE_TEAM_TAG,
        Permission.LIVE_MAP_READ,
        Permission.NOTIFICATIONS_UNIT_READ,
        Permission.TASER_DEPLOYMENT_FILE_ANY,
        Permission.TASER_DEPLOYMENT_SIGN_OFF,
        Permission.TASER_EXCEPTION_READ,
        Permission.TASER_RECORD_COMMAND_READ,
    },
    Role.TRAINING_MANAGER: _FLEET_READERS
    | {Permission.TRAINING_POLICY_WRITE, Permission.TRAINING_RECORD_WRITE},
}

ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.ADMIN: "Runs the system: user accounts and roles.",
    Role.AUDITOR: "Reads and verifies the audit log.",
    Role.CONTROL_ROOM: "Live map and live view with an operational reason.",
    Role.EQUIPMENT_MANAGER: "Devices, docks, issue and return.",
    Role.EVIDENCE_MANAGER: "Footage library, cases, disclosure and retention.",
    Role.INVESTIGATOR: "Detective or case officer: footage of their cases, or through a grant.",
    Role.OFFICER: "Records and tags their own footage, files use-of-force reports.",
    Role.PANEL_MEMBER: "External: scrutiny panel, sees redacted footage only.",
    Role.PCC_OFFICE: "Police and crime commissioner's office: figures, no personal data.",
    Role.PROFESSIONAL_STANDARDS: "Misuse alerts, exceptions and complaints.",
    Role.PROSECUTOR: "External: receives shared cases and court bundles.",
    Role.SUPERVISOR: "Sergeant or inspector: reviews reports, live view for officer safety.",
    Role.TRAINING_MANAGER: "Courses, authority and eligibility policy.",
}


@dataclass(frozen=True)
class Actor:
    """Whoever is acting: a signed-in user, a job acting for the system (``user_id`` None), or a
    device signed in with its credential (``device_serial`` set, ``username`` ``device:SERIAL``, no
    roles, only ``scopes``)."""

    username: str
    roles: frozenset[Role] = field(default_factory=frozenset)
    user_id: int | None = None
    officer_id: int | None = None
    device_serial: str | None = None
    scopes: frozenset[DeviceScope] = field(default_factory=frozenset)
    supervised_unit_ids: frozenset[int] = field(default_factory=frozenset)
    """The units a supervisor supervises, for the record rules that read them; the caller that needs
    them (the footage library) adds them to the actor, since policy reads no database."""
    must_change_password: bool = False
    """Signed in with a temporary password an admin set: only the routes declared usable before a
    password change (changing it, signing out, who am I) answer until it is changed."""

    @property
    def is_device(self) -> bool:
        return self.device_serial is not None

    @property
    def permissions(self) -> frozenset[Permission]:
        granted: frozenset[Permission] = frozenset()
        for role in self.roles:
            granted |= ROLE_PERMISSIONS[role]
        return granted


SYSTEM = Actor(username="system")


def can(actor: Actor, permission: Permission) -> bool:
    """Whether ``actor`` holds ``permission`` through any of its roles."""
    return permission in actor.permissions


def device_actor(serial: str, scopes: frozenset[DeviceScope]) -> Actor:
    """The actor a device credential signs in: named after the device, holding no roles."""
    return Actor(username=f"device:{serial}", device_serial=serial, scopes=scopes)


def device_may(actor: Actor, scope: DeviceScope) -> bool:
    """Whether ``actor`` is a device whose credential grants ``scope``."""
    return actor.is_device and scope in actor.scopes
