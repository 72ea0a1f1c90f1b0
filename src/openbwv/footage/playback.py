"""Playing and downloading a clip: always for a stated reason, held as a grant of access.

A viewing session is one grant (``access``): the first request for a clip's bytes with a reason
makes the grant (or finds the caller's live one) and records one ``footage:clip:viewed`` event with
who, which clip, the reason and the incident number; the player's later Range requests find both
and write nothing. Each download is an event of its own. A clip the caller may not see is not
found, exactly like a missing one.

Routes that stream call these in short transactions before the bytes flow, never holding a
session while they do.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import access, audit, people
from openbwv.access import AccessGrant, AccessKind, GrantDurations
from openbwv.audit import AuditAction, AuditEvent, EventFilter, Target
from openbwv.errors import NotFound
from openbwv.footage.models import Clip
from openbwv.footage.service import CLIP_FACTS, clip_record, grant_record, viewer
from openbwv.policy import Actor, Permission, RecordKind, can, scope, scope_clause

KIND = AccessKind.FOOTAGE_VIEW
HISTORY_SHOWN = 50


@dataclass(frozen=True)
class Reason:
    """What the caller states for playing or downloading: a reason code, and an incident number or a
    note (the grant's rules say which are needed)."""

    code: str
    incident_number: str | None = None
    note: str | None = None


@dataclass(frozen=True)
class Playback:
    """What a route needs to stream a clip once the grant is in place."""

    clip_id: int
    sha256: str
    size: int
    storage_key: str
    grant_id: int
    expires_at: datetime


@dataclass(frozen=True)
class Export:
    playback: Playback
    event_id: int
    """The audit event that recorded the download."""


def get_clip(db: Session, actor: Actor, clip_id: int) -> Clip | None:
    """The clip, when ``actor`` may see it under footage's record rules; None when it is missing or
    hidden (the two look the same)."""
    actor = viewer(db, actor)
    visible = scope(actor, Permission.FOOTAGE_CLIP_VIEW, RecordKind.FOOTAGE)
    if visible.nothing:
        return None
    return db.scalar(select(Clip).where(Clip.id == clip_id, scope_clause(visible, CLIP_FACTS)))


def may_see(db: Session, actor: Actor, clip: Clip) -> bool:
    """The same decision as :func:`get_clip`, taken by policy on the clip's ``Record``."""
    officer = people.get_officer_by_id(db, clip.officer_id) if clip.officer_id is not None else None
    record = clip_record(
        clip,
        unit_id=officer.unit_id if officer is not None else None,
        grantees=access.live_grantees(db, record=grant_record(clip), kind=KIND),
    )
    return can(viewer(db, actor), Permission.FOOTAGE_CLIP_VIEW, record)


def _visible(db: Session, actor: Actor, clip_id: int) -> Clip:
    clip = get_clip(db, actor, clip_id)
    if clip is None:
        raise NotFound("clip")
    return clip


def _playback(clip: Clip, grant: AccessGrant) -> Playback:
    return Playback(clip.id, clip.sha256, clip.size, clip.storage_key, grant.id, grant.expires_at)


def _stated(grant: AccessGrant) -> str:
    parts = [grant.reason_code]
    if grant.incident_number:
        parts.append(f"incident {grant.incident_number}")
    if grant.note:
        parts.append(grant.note)
    return "; ".join(parts)


def _details(clip: Clip, grant: AccessGrant) -> dict[str, object]:
    return {
        "clip_id": clip.id,
        "sha256": clip.sha256,
        "grant": grant.id,
        "reason_code": grant.reason_code,
        "incident_number": grant.incident_number,
        "subject_officer_id": clip.officer_id,
    }


def _viewed_under(db: Session, actor: Actor, clip: Clip, grant: AccessGrant) -> bool:
    events, _ = audit.list_events(
        db,
        where=EventFilter(
            actor=actor.username,
            action=AuditAction.FOOTAGE_CLIP_VIEWED,
            target_type="clip",
            target_id=str(clip.id),
            since=grant.granted_at,
        ),
        limit=HISTORY_SHOWN,
        offset=0,
    )
    return any((event.details or {}).get("grant") == grant.id for event in events)


def current_playback(db: Session, actor: Actor, *, clip_id: int, reason: Reason) -> Playback | None:
    """The caller's viewing session of the clip, when their live grant and its viewing event are
    already recorded: what the player's Range requests find, writing nothing. None when
    :func:`open_playback` must start one. Refuses like it."""
    access.check_reason_for(db, reason.code, KIND)
    clip = _visible(db, actor, clip_id)
    grant = access.active_grant(db, actor, record=grant_record(clip), kind=KIND)
    if grant is None or not _viewed_under(db, actor, clip, grant):
        return None
    return _playback(clip, grant)


def _session(
    db: Session, actor: Actor, *, clip_id: int, reason: Reason, durations: GrantDurations
) -> tuple[Clip, AccessGrant]:
    access.check_reason_for(db, reason.code, KIND)
    clip = _visible(db, actor, clip_id)
    record = grant_record(clip)
    grant = access.active_grant(db, actor, record=record, kind=KIND)
    if grant is None:
        grant = access.grant_access(
            db,
            actor,
            record=record,
            kind=KIND,
            reason_code=reason.code,
            incident_number=reason.incident_number,
            note=reason.note,
            durations=durations,
        )
        db.flush()
    return clip, grant


def open_playback(
    db: Session, actor: Actor, *, clip_id: int, reason: Reason, durations: GrantDurations
) -> Playback:
    """Start (or continue) the caller's viewing session of a clip they may see, for the reason they
    state: their live grant to view it, made now if they hold none (refused as ``access`` refuses
    it), and one ``footage:clip:viewed`` event for the grant. A reason the force forbids for viewing
    footage is refused (403) naming the rule; a hidden clip is not found."""
    clip, grant = _session(db, actor, clip_id=clip_id, reason=reason, durations=durations)
    if not _viewed_under(db, actor, clip, grant):
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_CLIP_VIEWED,
            target=Target("clip", str(clip.id)),
            reason=_stated(grant),
            details=_details(clip, grant),
        )
    return _playback(clip, grant)


def record_export(
    db: Session, actor: Actor, *, clip_id: int, reason: Reason, durations: GrantDurations
) -> Export:
    """A download of the clip's original bytes, for the stated reason, under the caller's grant (made
    now if they hold none): each download is a ``footage:clip:exported`` event of its own."""
    clip, grant = _session(db, actor, clip_id=clip_id, reason=reason, durations=durations)
    event = audit.record(
        db,
        actor=actor,
        action=AuditAction.FOOTAGE_CLIP_EXPORTED,
        target=Target("clip", str(clip.id)),
        reason=_stated(grant),
        details={**_details(clip, grant), "size": clip.size},
    )
    db.flush()
    return Export(_playback(clip, grant), event.id)


def picture_key(db: Session, actor: Actor, *, clip_id: int, which: str) -> str:
    """The storage key of a clip's poster (``poster``) or thumbnail strip (``thumbnails``): pictures
    of the footage, shown only within a live grant to view it."""
    clip = _visible(db, actor, clip_id)
    access.require_grant(db, actor, record=grant_record(clip), kind=KIND)
    key = clip.poster_key if which == "poster" else clip.thumbnails_key
    if key is None:
        raise NotFound(which)
    return key


@dataclass(frozen=True)
class ClipPage:
    clip: Clip
    collar_number: str | None
    grant: AccessGrant | None
    history: list[AuditEvent]
    reasons: list[access.AccessReason]


def clip_page(db: Session, actor: Actor, *, clip_id: int) -> ClipPage:
    """What the clip's page shows: its metadata, the caller's live grant to view it (then the player,
    pictures and track), the reasons they may state, and the clip's own audit history (all of it for
    those who read the audit log; the system's events and the caller's own for anyone else)."""
    clip = _visible(db, actor, clip_id)
    officer = people.get_officer_by_id(db, clip.officer_id) if clip.officer_id is not None else None
    grant = access.active_grant(db, actor, record=grant_record(clip), kind=KIND)
    # Whoever else viewed the clip, and why (a conduct matter about its officer, perhaps), is for
    # those who read the audit log; others see the system's work on the clip and their own. Chosen in
    # the query, so that others' events never crowd the caller's own out of the page.
    seen_by = None if can(actor, Permission.AUDIT_EVENT_READ) else actor
    history: list[AuditEvent] = []
    for target_type in ("clip", grant_record(clip).kind):
        events, _ = audit.list_events(
            db,
            where=EventFilter(target_type=target_type, target_id=str(clip.id), seen_by=seen_by),
            limit=HISTORY_SHOWN,
            offset=0,
        )
        history += events
    history.sort(key=lambda e: (e.occurred_at, e.id), reverse=True)
    reasons = [
        r
        for r in access.list_reasons(db, include_inactive=False)
        if KIND in r.permits and KIND not in r.forbids
    ]
    return ClipPage(
        clip,
        officer.collar_number if officer is not None else None,
        grant,
        history[:HISTORY_SHOWN],
        reasons,
    )
