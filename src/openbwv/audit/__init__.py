"""The audit trail: every security-relevant event, append-only."""

from openbwv.audit.actions import AuditAction
from openbwv.audit.evidence import prove_event
from openbwv.audit.models import AuditEvent
from openbwv.audit.overview import LogOverview, log_overview
from openbwv.audit.service import EventFilter, Target, list_events, record, record_now, record_refusal

__all__ = [
    "AuditAction",
    "AuditEvent",
    "EventFilter",
    "LogOverview",
    "Target",
    "list_events",
    "log_overview",
    "prove_event",
    "record",
    "record_now",
    "record_refusal",
]
