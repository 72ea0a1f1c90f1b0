"""Tagging clips (category, incident number) and what keeps them (evidence flag, legal hold, case
reference): each change an audit event that keeps the old value."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import audit
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.footage.models import Clip, FootageCategory
from openbwv.footage.service import CLIP_FACTS, ClipView, clip_view, viewer
from openbwv.policy import Actor, Permission, RecordKind, can, scope, scope_clause

REFERENCE_LENGTH = 40


class _Unchanged:
    def __repr__(self) -> str:
        return "UNCHANGED"


UNCHANGED: Final = _Unchanged()
"""A field the caller leaves as it is."""


def list_categories(db: Session) -> list[FootageCategory]:
    """Every category, active ones first, by label."""
    return list(
        db.scalars(select(FootageCategory).order_by(FootageCategory.is_active.desc(), FootageCategory.label))
    )


def _taggable(db: Session, actor: Actor, clip_id: int) -> Clip | None:
    """The clip, locked, if ``actor`` may tag it: one they may see under the footage record rules
    (an evidence manager: any), and not deleted."""
    query = select(Clip).where(Clip.id == clip_id, Clip.deleted_at.is_(None))
    if not can(actor, Permission.FOOTAGE_EVIDENCE_MANAGE):
        # A supervisor's team is read here: the sign-in does not carry it.
        visible = scope(viewer(db, actor), Permission.FOOTAGE_CLIP_VIEW, RecordKind.FOOTAGE)
        if visible.nothing:
            return None
        query = query.where(scope_clause(visible, CLIP_FACTS))
    return db.scalar(query.with_for_update())


def _kept(db: Session, clip_id: int) -> Clip | None:
    """The clip, locked, for an evidence manager (force-wide), unless its bytes are destroyed."""
    return db.scalar(select(Clip).where(Clip.id == clip_id, Clip.destroyed_at.is_(None)).with_for_update())


def _reference(field: str, value: str | None) -> str | None:
    cleaned = (value or "").strip()
    if len(cleaned) > REFERENCE_LENGTH:
        raise InvalidInput(field, f"At most {REFERENCE_LENGTH} characters.")
    return cleaned or None


def _reason(value: str) -> str:
    cleaned = value.strip()
    if not cleaned:
        raise InvalidInput("reason", "Say why.")
    return cleaned


def tag_clip(
    db: Session,
    actor: Actor,
    clip_id: int,
    *,
    category: str | _Unchanged | None = UNCHANGED,
    incident_number: str | _Unchanged | None = UNCHANGED,
    note: str | None = None,
) -> ClipView | None:
    """Set a clip's category (by code; None: untagged) and incident number; None when the clip is
    missing or hidden from ``actor``. One audit event with the old and new values of what changed."""
    clip = _taggable(db, actor, clip_id)
    if clip is None:
        return None
    changes: dict[str, Any] = {}
    if not isinstance(category, _Unchanged):
        new = None
        if category is not None:
            new = db.scalar(select(FootageCategory).where(FootageCategory.code == category.strip()))
            if new is None or not new.is_active:
                raise InvalidInput("category", "No such category.")
        old = db.get(FootageCategory, clip.category_id) if clip.category_id is not None else None
        if (new.id if new else None) != clip.category_id:
            changes["category"] = {"old": old.code if old else None, "new": new.code if new else None}
            clip.category_id = new.id if new else None
    if not isinstance(incident_number, _Unchanged):
        number = _reference("incident_number", incident_number)
        if number != clip.incident_number:
            changes["incident_number"] = {"old": clip.incident_number, "new": number}
            clip.incident_number = number
    if changes:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_CLIP_TAGGED,
            target=Target("clip", str(clip.id)),
            reason=(note or "").strip() or None,
            details={"sha256": clip.sha256, "subject_officer_id": clip.officer_id, **changes},
        )
    return clip_view(db, clip)


@dataclass(frozen=True)
class _Switch:
    column: str
    on: AuditAction
    off: AuditAction


_EVIDENCE = _Switch(
    "evidence_flag", AuditAction.FOOTAGE_CLIP_EVIDENCE_FLAGGED, AuditAction.FOOTAGE_CLIP_EVIDENCE_UNFLAGGED
)
_HOLD = _Switch("legal_hold", AuditAction.FOOTAGE_CLIP_HOLD_PLACED, AuditAction.FOOTAGE_CLIP_HOLD_RELEASED)


def _switch(
    db: Session, actor: Actor, clip_id: int, switch: _Switch, *, on: bool, reason: str
) -> ClipView | None:
    why = _reason(reason)
    clip = _kept(db, clip_id)
    if clip is None:
        return None
    old = bool(getattr(clip, switch.column))
    if old != on:
        setattr(clip, switch.column, on)
        audit.record(
            db,
            actor=actor,
            action=switch.on if on else switch.off,
            target=Target("clip", str(clip.id)),
            reason=why,
            details={"sha256": clip.sha256, switch.column: {"old": old, "new": on}},
        )
    return clip_view(db, clip)


def set_evidence_flag(
    db: Session, actor: Actor, clip_id: int, *, flagged: bool, reason: str
) -> ClipView | None:
    """Flag a clip as evidence (or take the flag off): a flagged clip is never deleted. None when the
    clip is missing or destroyed; audited with the reason when it changes."""
    return _switch(db, actor, clip_id, _EVIDENCE, on=flagged, reason=reason)


def set_legal_hold(db: Session, actor: Actor, clip_id: int, *, held: bool, reason: str) -> ClipView | None:
    """Place a legal hold on a clip (or release it): a held clip is never deleted. None when the
    clip is missing or destroyed; audited with the reason when it changes."""
    return _switch(db, actor, clip_id, _HOLD, on=held, reason=reason)


def link_case(
    db: Session, actor: Actor, clip_id: int, *, case_reference: str | None, reason: str
) -> ClipView | None:
    """Link a clip to a case by its reference (None: unlink); a clip linked to an open case is never
    deleted (``retention.case_is_open``). None when the clip is missing or destroyed."""
    why = _reason(reason)
    reference = _reference("case_reference", case_reference)
    clip = _kept(db, clip_id)
    if clip is None:
        return None
    if reference != clip.case_reference:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_CLIP_CASE_LINKED,
            target=Target("clip", str(clip.id)),
            reason=why,
            details={"sha256": clip.sha256, "case_reference": {"old": clip.case_reference, "new": reference}},
        )
        clip.case_reference = reference
    return clip_view(db, clip)
