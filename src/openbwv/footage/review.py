"""Clips a person must look at: held for review (attributed to nobody), or attributed by the issue
history to someone other than the officer the source named."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from openbwv import audit
from openbwv.audit import AuditAction, Target
from openbwv.footage.models import Clip
from openbwv.footage.service import raise_alert
from openbwv.policy import SYSTEM

_REVIEW_SENTENCES = {
    "unknown_camera": "camera {serial} is not in the fleet",
    "no_holder": "nobody held camera {serial} at {at:%Y-%m-%d %H:%M} UTC",
}


def record_dispute(db: Session, clip: Clip, claim: dict[str, Any], *, source: str) -> None:
    """The source named someone other than the issue history's holder: the clip stays the holder's,
    and the disagreement is on record for an evidence manager to review."""
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.FOOTAGE_CLIP_ATTRIBUTION_DISPUTED,
        target=Target("clip", str(clip.id)),
        reason=(
            f"the source says user {claim['claimed_user_id']} recorded; the issue "
            f"history says {claim['holder_collar_number']} held camera {clip.camera_serial}"
        ),
        details={"sha256": clip.sha256, "source": source, **claim},
    )


def hold_for_review(db: Session, clip: Clip, reason: str, claim: dict[str, Any] | None) -> None:
    """Hold ``clip`` for review: an audit event, and an alert to professional standards and evidence
    managers naming the officer the source suggested, if it named one of ours."""
    why = _REVIEW_SENTENCES[reason].format(serial=clip.camera_serial or "?", at=clip.recorded_at)
    claim = claim or {}
    suggested = claim.get("claimed_collar_number")
    event = audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.FOOTAGE_CLIP_HELD_FOR_REVIEW,
        target=Target("clip", str(clip.id)),
        reason=why,
        details={
            "sha256": clip.sha256,
            "review_reason": reason,
            "camera_serial": clip.camera_serial,
            "claimed_user_id": claim.get("claimed_user_id"),
            "suggested_officer_id": claim.get("claimed_officer_id"),
            "suggested_collar_number": suggested,
        },
    )
    hint = f" The camera system names officer {suggested}." if suggested else ""
    raise_alert(
        db,
        rule="footage_held_for_review",
        target=Target("clip", str(clip.id)),
        summary=f"Clip {clip.sha256[:12]} is held for review: {why}.{hint}",
        event=event,
    )
