"""The audit trail: every security-relevant event, append-only."""

from openbwv.audit.actions import AuditAction
from openbwv.audit.service import EventFilter, Target, list_events, record, record_now, record_refusal

__all__ = ["AuditAction", "EventFilter", "Target", "list_events", "record", "record_now", "record_refusal"]
