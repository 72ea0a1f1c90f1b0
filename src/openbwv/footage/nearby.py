"""Footage of a moment and a place, for other domains that link clips to what happened (a use of
Taser): an officer's clips, a camera's, the clips whose track passed near a point, in a time window;
the clips probed lately (footage that docked after the event); and keeping clips as evidence."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from openbwv import audit
from openbwv.audit import AuditAction, Target
from openbwv.footage.models import Clip, ClipPlace
from openbwv.footage.place import Circle, distance_m, place_hits
from openbwv.policy import SYSTEM

LONGEST_CLIP = timedelta(hours=4)
"""Clips are found by their start time; one that started this long before a window may still reach
into it (a camera records in clips of an hour or less, a long recording split by the camera)."""


@dataclass(frozen=True)
class ClipSpan:
    """When a clip ran, and whose and which camera's it is."""

    id: int
    officer_id: int | None
    camera_serial: str
    start: datetime
    end: datetime

    def overlaps(self, start: datetime, end: datetime) -> bool:
        return self.start <= end and self.end >= start


def _span(clip: Clip) -> ClipSpan:
    end = clip.recorded_at + timedelta(seconds=clip.duration_s or 0)
    return ClipSpan(clip.id, clip.officer_id, clip.camera_serial, clip.recorded_at, end)


def _spans(db: Session, *where: ColumnElement[bool], start: datetime, end: datetime) -> list[ClipSpan]:
    """The clips matching ``where`` that ran within ``[start, end]``: read by start time, from
    ``LONGEST_CLIP`` before the window, then kept by their end."""
    clips = db.scalars(
        select(Clip).where(
            *where,
            Clip.deleted_at.is_(None),
            Clip.recorded_at >= start - LONGEST_CLIP,
            Clip.recorded_at <= end,
        )
    )
    return [span for span in map(_span, clips) if span.overlaps(start, end)]


def officer_clips(db: Session, officer_id: int, start: datetime, end: datetime) -> list[ClipSpan]:
    """The officer's clips (attributed to them) that ran within the window."""
    return _spans(db, Clip.officer_id == officer_id, start=start, end=end)


def camera_clips(db: Session, serials: Collection[str], start: datetime, end: datetime) -> list[ClipSpan]:
    """The clips of these cameras that ran within the window."""
    if not serials:
        return []
    return _spans(db, Clip.camera_serial.in_(sorted(serials)), start=start, end=end)


def clips_near(
    db: Session, latitude: float, longitude: float, radius_m: float, start: datetime, end: datetime
) -> list[ClipSpan]:
    """The clips with a point of their track (or, with none, their camera's station) within the
    radius that ran within the window."""
    hits = place_hits(
        Circle(latitude, longitude, radius_m), recorded_from=start - LONGEST_CLIP, recorded_to=end
    )
    clips = db.scalars(
        select(Clip).join(hits, and_(hits.c.clip_id == Clip.id)).where(Clip.deleted_at.is_(None))
    )
    return [span for span in map(_span, clips) if span.overlaps(start, end)]


def clips_probed_since(db: Session, since: datetime) -> list[ClipSpan]:
    """Clips whose probe finished at or after ``since`` (their time, duration and place now known),
    oldest first: footage that docked lately, to be matched to what happened while it recorded."""
    clips = db.scalars(
        select(Clip)
        .where(Clip.probed_at >= since, Clip.deleted_at.is_(None))
        .order_by(Clip.probed_at, Clip.id)
    )
    return [_span(clip) for clip in clips]


def clip_spans(db: Session, clip_ids: Collection[int]) -> dict[int, ClipSpan]:
    """When each of these clips ran, by id (deleted ones too: a link outlives a clip's pictures)."""
    if not clip_ids:
        return {}
    return {clip.id: _span(clip) for clip in db.scalars(select(Clip).where(Clip.id.in_(sorted(clip_ids))))}


def passed_near(db: Session, clip_id: int, latitude: float, longitude: float, radius_m: float) -> bool:
    """Whether a point of the clip's indexed track (or its station) lies within the radius."""
    points = db.execute(select(ClipPlace.latitude, ClipPlace.longitude).where(ClipPlace.clip_id == clip_id))
    return any(distance_m((latitude, longitude), point) <= radius_m for point in points)


def keep_as_evidence(db: Session, clip_ids: Sequence[int], *, reason: str) -> list[int]:
    """Flag the clips as evidence so that retention never deletes them, audited as the system with
    ``reason``; the ids of those not flagged before."""
    flagged = []
    clips = db.scalars(select(Clip).where(Clip.id.in_(clip_ids), Clip.deleted_at.is_(None)).with_for_update())
    for clip in clips:
        if clip.evidence_flag:
            continue
        clip.evidence_flag = True
        flagged.append(clip.id)
        audit.record(
            db,
            actor=SYSTEM,
            action=AuditAction.FOOTAGE_CLIP_EVIDENCE_FLAGGED,
            target=Target("clip", str(clip.id)),
            reason=reason,
            details={"sha256": clip.sha256, "evidence_flag": {"old": False, "new": True}},
        )
    return sorted(flagged)
