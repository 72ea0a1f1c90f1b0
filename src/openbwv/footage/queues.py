"""The lists people work through: an officer's own clips with when each is due for deletion, the
untagged clips of a supervisor's team, and the evidence manager's queue (quarantined uploads, clips
held for review, clips due for deletion this week).

Due dates come from ``retention.Periods.due`` and ``retention.due_by``, the same rules the nightly
job runs, so a page never says a clip is kept that the job would delete. The team's list and the
evidence manager's queue show other officers' clips: each view is audited with the clips it showed.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Select, func, select, tuple_
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput
from openbwv.footage import retention
from openbwv.footage.models import UNTAGGED_KEY, Clip, ClipSource, FootageCategory, category_key
from openbwv.footage.service import clip_facts, viewer
from openbwv.policy import Actor, Fact

PAGE_SIZE = 50
DUE_SOON = timedelta(days=7)
"""How far ahead "due for deletion soon" looks."""


@dataclass(frozen=True)
class ClipRow:
    """A clip as a list shows it: whose it is, its category, and when it is due for deletion."""

    clip: Clip
    collar_number: str | None
    category: FootageCategory | None
    due: retention.Due


@dataclass(frozen=True)
class ClipRows:
    """One page of a list, the cursor of the next (None: the last), and why it is empty when the
    caller has no clips of this kind at all (no officer record, no team)."""

    rows: list[ClipRow]
    next_cursor: str | None = None
    unavailable: str | None = None


def encode_cursor(clip: Clip) -> str:
    """The keyset cursor that continues a list after ``clip``."""
    raw = f"{clip.recorded_at.isoformat()}|{clip.id}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """``(recorded_at, id)`` of the clip a list continues after; ``InvalidInput`` when it is not a
    cursor this module made."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        at, _, clip_id = raw.partition("|")
        recorded_at = datetime.fromisoformat(at)
        if recorded_at.tzinfo is None:
            raise ValueError("naive")
        return recorded_at, int(clip_id)
    except (ValueError, UnicodeDecodeError, binascii.Error) as exc:
        raise InvalidInput("cursor", "Not a page of this list: start again from the first page.") from exc


def _rows(db: Session, clips: list[Clip], periods: retention.Periods) -> list[ClipRow]:
    officers = people.officers_by_ids(db, (c.officer_id for c in clips if c.officer_id is not None))
    return [
        ClipRow(
            c,
            officers[c.officer_id].collar_number if c.officer_id in officers else None,
            periods.by_id.get(c.category_id) if c.category_id is not None else None,
            periods.due(c),
        )
        for c in clips
    ]


def _page(
    db: Session, query: Select[Clip], *, newest_first: bool, cursor: str | None, limit: int
) -> tuple[list[Clip], str | None]:
    key = tuple_(Clip.recorded_at, Clip.id)
    if cursor is not None:
        after = decode_cursor(cursor)
        query = query.where(key < after if newest_first else key > after)
    order = (Clip.recorded_at.desc(), Clip.id.desc()) if newest_first else (Clip.recorded_at, Clip.id)
    clips = list(db.scalars(query.order_by(*order).limit(limit + 1)))
    more = len(clips) > limit
    clips = clips[:limit]
    return clips, encode_cursor(clips[-1]) if more else None


def my_footage(
    db: Session,
    actor: Actor,
    *,
    due_within: timedelta | None = None,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
    now: datetime | None = None,
) -> ClipRows:
    """The caller's own clips (those attributed to their officer record), newest first, each with
    when it is due for deletion; only those due within ``due_within`` when given."""
    if actor.officer_id is None:
        return ClipRows([], unavailable="Your account is not linked to an officer record.")
    now = now or clock.now()
    query = select(Clip).where(Clip.officer_id == actor.officer_id, Clip.deleted_at.is_(None))
    if due_within is not None:
        query = query.where(retention.due_by_clause(db, now + due_within))
    clips, next_cursor = _page(db, query, newest_first=True, cursor=cursor, limit=limit)
    return ClipRows(_rows(db, clips, retention.periods(db)), next_cursor)


def _audit_view(db: Session, actor: Actor, queue: str, clips: list[Clip], **details: object) -> None:
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FOOTAGE_QUEUE_VIEWED,
        target=Target("footage_queue", queue),
        details={
            "clip_ids": [c.id for c in clips],
            "subject_officer_ids": sorted({c.officer_id for c in clips if c.officer_id is not None}),
            **details,
        },
    )


def untagged_in_team(
    db: Session, actor: Actor, *, cursor: str | None = None, limit: int = PAGE_SIZE
) -> ClipRows:
    """The clips with no category of the officers serving in the units the caller supervises,
    oldest first (the nearest to deletion first); the view is audited."""
    units = viewer(db, actor).supervised_unit_ids
    if not units:
        return ClipRows([], unavailable="You supervise no unit: your officer record names none.")
    query = select(Clip).where(
        category_key() == UNTAGGED_KEY, Clip.deleted_at.is_(None), clip_facts(db)[Fact.UNIT](units)
    )
    clips, next_cursor = _page(db, query, newest_first=False, cursor=cursor, limit=limit)
    _audit_view(db, actor, "untagged", clips, unit_ids=sorted(units))
    return ClipRows(_rows(db, clips, retention.periods(db)), next_cursor)


@dataclass(frozen=True)
class EvidenceQueue:
    """What waits for an evidence manager, each section at most a page, with its total."""

    quarantined: list[ClipSource]
    quarantined_total: int
    held: list[ClipRow]
    held_total: int
    due: list[ClipRow]
    due_total: int
    due_until: datetime


def evidence_queue(
    db: Session, actor: Actor, *, limit: int = PAGE_SIZE, now: datetime | None = None
) -> EvidenceQueue:
    """Uploads quarantined because their bytes did not match the device's hash (newest first),
    clips attributed to nobody and held for review (oldest first), and clips the retention job will
    delete within ``DUE_SOON`` (soonest first); the view is audited."""
    now = now or clock.now()
    quarantined_query = select(ClipSource).where(ClipSource.outcome == "quarantined")
    quarantined = list(
        db.scalars(
            quarantined_query.order_by(ClipSource.received_at.desc(), ClipSource.id.desc()).limit(limit)
        )
    )
    held_query = select(Clip).where(
        Clip.review_reason.is_not(None), Clip.officer_id.is_(None), Clip.deleted_at.is_(None)
    )
    held = list(db.scalars(held_query.order_by(Clip.recorded_at, Clip.id).limit(limit)))
    until = now + DUE_SOON
    due, due_total = retention.due_by(db, until, limit=limit)
    _audit_view(db, actor, "evidence", [*held, *due], source_ids=[s.id for s in quarantined])
    periods = retention.periods(db)
    return EvidenceQueue(
        quarantined=quarantined,
        quarantined_total=_count(db, quarantined_query),
        held=_rows(db, held, periods),
        held_total=_count(db, held_query),
        due=_rows(db, due, periods),
        due_total=due_total,
        due_until=until,
    )


def _count(db: Session, query: Select[ClipSource] | Select[Clip]) -> int:
    return db.scalar(select(func.count()).select_from(query.subquery())) or 0
