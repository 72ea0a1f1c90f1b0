"""Reasons for access: the force's reason codes, and the grants people hold under them.

A platform piece under the domains: footage playback and live view call ``require_grant`` (or
``active_grant``) with the record they are about to show and the kind of access; nothing here imports
a domain. A reason code says which kinds of access it permits and which it forbids; a grant is one
person's stated reason (a code, and an incident number or a note) for one kind of access to one
record, until it expires or is ended, and each grant, renewal and ending is audited with the reason.
"""

from openbwv.access.grants import (
    DEFAULT_DURATIONS,
    AccessRecord,
    GrantDurations,
    GrantFilter,
    active_grant,
    check_reason_for,
    end_grant,
    get_grant,
    grant_access,
    grant_state,
    granted_record_ids,
    grants_by_id,
    list_grants,
    list_own_grants,
    live_grantees,
    renew_grant,
    require_grant,
)
from openbwv.access.models import AccessGrant, AccessKind, AccessReason
from openbwv.access.reasons import (
    CONDUCT_REASONS,
    DEFAULT_REASONS,
    create_reason,
    get_reason,
    list_reasons,
    seed_default_reasons,
    set_reason_active,
    update_reason,
)

__all__ = [
    "CONDUCT_REASONS",
    "DEFAULT_DURATIONS",
    "DEFAULT_REASONS",
    "AccessGrant",
    "AccessKind",
    "AccessReason",
    "AccessRecord",
    "GrantDurations",
    "GrantFilter",
    "active_grant",
    "check_reason_for",
    "create_reason",
    "end_grant",
    "get_grant",
    "get_reason",
    "grant_access",
    "grant_state",
    "granted_record_ids",
    "grants_by_id",
    "list_grants",
    "list_own_grants",
    "list_reasons",
    "live_grantees",
    "renew_grant",
    "require_grant",
    "seed_default_reasons",
    "set_reason_active",
    "update_reason",
]
