"""Retention: which clips are due to go and why, their soft deletion, the destruction of their bytes
once the recoverable window has passed, and their restoration inside it.

The rules (categories are data, ``FootageCategory``; the window is ``footage_recovery_days``):

- A clip of a category with ``retention_days`` is due that many days after it was recorded (an
  untagged clip: the default category's days, 31 by default); a clip an evidence manager restored
  is due that many days after the restoration instead, if that is later.
- A clip of an evidential category (no ``retention_days``) is kept under its MoPI review group and
  never deleted here.
- A clip flagged as evidence, under a legal hold, or linked to an open case (``case_is_open``) is
  never touched, whatever its age: neither deleted nor destroyed.
- A due clip is soft-deleted: hidden, its bytes kept. After the recoverable window, its objects (clip,
  poster, thumbnails) are deleted from the store and the row kept as ``destroyed``.
- Every step is an audit event naming the rule.

Due clips are found set-based, category by category, through the partial index ``ix_clip_retention``
(whose condition is the query's own, ``RETENTION_CANDIDATE``), and handled in batches, each its own
transaction.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select, text, tuple_, update
from sqlalchemy.orm import Session, sessionmaker

from openbwv import audit, clock
from openbwv.audit import AuditAction, Target
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.errors import Conflict, InvalidInput
from openbwv.footage.models import (
    PURGE_PENDING,
    RECOVERABLE,
    RETENTION_CANDIDATE,
    Clip,
    FootageCategory,
)
from openbwv.footage.service import ClipView, clip_view
from openbwv.policy import Actor
from openbwv.storage import ObjectStore

BATCH_SIZE = 500


def case_is_open() -> ColumnElement[bool]:
    """Whether the clip's ``case_reference`` names an open case, as SQL.

    Cases are not a domain yet: a case reference is set and cleared by an evidence manager, and while
    it is set the case counts as open. When cases arrive, this asks them whether the case is closed."""
    return Clip.case_reference.is_not(None)


@dataclass(frozen=True)
class Step:
    """One thing the retention run does (``delete`` or ``destroy``) to one clip, and why."""

    action: str
    clip_id: int
    sha256: str
    recorded_at: datetime
    rule: str


def keeps(clip: Clip) -> str | None:
    """What keeps ``clip`` whatever its age (the Python twin of ``RETENTION_CANDIDATE`` and
    :func:`case_is_open`), or None when nothing does."""
    if clip.evidence_flag:
        return "flagged as evidence"
    if clip.legal_hold:
        return "under a legal hold"
    if clip.case_reference is not None:
        return f"linked to case {clip.case_reference}"
    return None


@dataclass(frozen=True)
class Due:
    """When a clip is due for deletion (``at``; None: it is kept), and the rule that says so."""

    at: datetime | None
    rule: str


def period_start(clip: Clip) -> datetime:
    """When a clip's retention period runs from: its recording, or its restoration if later."""
    if clip.restored_at is not None and clip.restored_at > clip.recorded_at:
        return clip.restored_at
    return clip.recorded_at


@dataclass(frozen=True)
class Periods:
    """The categories' retention periods, read once, to date many clips."""

    by_id: dict[int, FootageCategory]
    default: FootageCategory | None

    def due(self, clip: Clip) -> Due:
        """When ``clip`` is due for deletion, by the same rules as the job's query
        (:func:`_due_query`): the job deletes it on its first run after ``at``."""
        if clip.deleted_at is not None:
            return Due(None, f"deleted: {clip.deletion_rule or 'by the retention job'}")
        kept = keeps(clip)
        if kept is not None:
            return Due(None, kept)
        untagged = clip.category_id is None
        category = self.default if untagged else self.by_id.get(clip.category_id or 0)
        if category is None or category.retention_days is None:
            group = f" (MoPI group {category.mopi_group})" if category and category.mopi_group else ""
            return Due(None, f"{category.code if category else 'no category'}: evidential, kept{group}")
        bucket = _Bucket(category, untagged=untagged)
        return Due(period_start(clip) + timedelta(days=category.retention_days), bucket.rule())


def periods(db: Session) -> Periods:
    """Every category's retention period, and the default category's (untagged clips)."""
    categories = list(db.scalars(select(FootageCategory)))
    default = next((c for c in categories if c.is_default), None)
    return Periods({c.id: c for c in categories}, default)


@dataclass(frozen=True)
class _Bucket:
    """Clips kept alike: one category's, or the untagged ones (kept as the default category)."""

    category: FootageCategory
    untagged: bool

    @property
    def where(self) -> ColumnElement[bool]:
        return Clip.category_id.is_(None) if self.untagged else Clip.category_id == self.category.id

    def due_by(self, until: datetime) -> ColumnElement[bool]:
        """The bucket's clips whose period (from :func:`period_start`) ends before ``until``: a
        clip's ``Periods.due`` is before ``until`` exactly when this holds."""
        assert self.category.retention_days is not None
        cutoff = until - timedelta(days=self.category.retention_days)
        return and_(
            self.where,
            Clip.recorded_at < cutoff,
            or_(Clip.restored_at.is_(None), Clip.restored_at < cutoff),
        )

    def rule(self) -> str:
        days = self.category.retention_days
        if self.untagged:
            return f"untagged, kept as {self.category.code}: deleted {days} days after recording"
        return f"{self.category.code}: deleted {days} days after recording"


def _buckets(db: Session) -> list[_Bucket]:
    categories = db.scalars(
        select(FootageCategory)
        .where(FootageCategory.retention_days.is_not(None))
        .order_by(FootageCategory.code)
    ).all()
    buckets = [_Bucket(c, untagged=False) for c in categories]
    buckets += [_Bucket(c, untagged=True) for c in categories if c.is_default]
    return buckets


def due_by_clause(db: Session, until: datetime) -> ColumnElement[bool]:
    """The clips the retention job would have deleted by ``until`` (those due now among them), as a
    WHERE clause for a page's query: nothing keeps them, and their category's period ends first."""
    return and_(text(RETENTION_CANDIDATE), or_(false(), *(b.due_by(until) for b in _buckets(db))))


def due_by(db: Session, until: datetime, *, limit: int) -> tuple[list[Clip], int]:
    """The clips the retention job would have deleted by ``until`` (those already due among them),
    soonest first, at most ``limit``, with how many there are: each category's read off the job's
    own index, so the page and the job agree on what goes and when."""
    found: list[tuple[datetime, int, Clip]] = []
    total = 0
    for bucket in _buckets(db):
        days = timedelta(days=bucket.category.retention_days or 0)
        where = (text(RETENTION_CANDIDATE), bucket.due_by(until))
        total += db.scalar(select(func.count()).select_from(Clip).where(*where)) or 0
        clips = db.scalars(
            select(Clip).where(*where).order_by(Clip.category_id, Clip.recorded_at, Clip.id).limit(limit)
        )
        found += [(period_start(clip) + days, clip.id, clip) for clip in clips]
    found.sort(key=lambda due: due[:2])
    return [clip for _, _, clip in found[:limit]], total


def _due_query(bucket: _Bucket, now: datetime) -> Select[int, str, datetime]:
    return (
        select(Clip.id, Clip.sha256, Clip.recorded_at)
        .where(text(RETENTION_CANDIDATE), bucket.due_by(now))
        # ``category_id`` first although one value: PostgreSQL does not take ``IS NULL`` as fixing the
        # index's leading column, and would sort the untagged backlog for every batch.
        .order_by(Clip.category_id, Clip.recorded_at, Clip.id)
    )


def _expired_query(now: datetime, window: timedelta) -> Select[int, str, datetime]:
    return (
        select(Clip.id, Clip.sha256, Clip.recorded_at)
        .where(
            text(RECOVERABLE),
            Clip.deleted_at <= now - window,
            Clip.evidence_flag.is_(False),
            Clip.legal_hold.is_(False),
            ~case_is_open(),
        )
        .order_by(Clip.deleted_at, Clip.id)
    )


def _destroy_rule(window: timedelta) -> str:
    return f"recoverable window of {window.days} days passed"


def planned_steps(
    db: Session, *, now: datetime, window: timedelta, batch_size: int = BATCH_SIZE
) -> Iterator[Step]:
    """Everything a run at ``now`` would do, and why, read in batches and changing nothing: the
    destructions whose window has passed, then the deletions now due."""
    expired, rule = _expired_query(now, window).add_columns(Clip.deleted_at), _destroy_rule(window)
    after: tuple[datetime, int] | None = None
    while True:
        page = expired if after is None else expired.where(tuple_(Clip.deleted_at, Clip.id) > after)
        destroyed = db.execute(page.limit(batch_size)).all()
        yield from (Step("destroy", r.id, r.sha256, r.recorded_at, rule) for r in destroyed)
        if len(destroyed) < batch_size:
            break
        after = (destroyed[-1].deleted_at, destroyed[-1].id)
    for bucket in _buckets(db):
        query, rule = _due_query(bucket, now), bucket.rule()
        after = None
        while True:
            page = query if after is None else query.where(tuple_(Clip.recorded_at, Clip.id) > after)
            rows = db.execute(page.limit(batch_size)).all()
            yield from (Step("delete", r.id, r.sha256, r.recorded_at, rule) for r in rows)
            if len(rows) < batch_size:
                break
            after = (rows[-1].recorded_at, rows[-1].id)


def _locked(query: Select[int, str, datetime], batch_size: int) -> Select[int, str, datetime]:
    # Another worker's run (or a person flagging a clip) holds its rows; PostgreSQL re-checks the
    # WHERE once a row is locked, so a clip flagged meanwhile is not taken. SQLite runs one writer.
    return query.limit(batch_size).with_for_update(skip_locked=True)


def delete_due_batch(db: Session, actor: Actor, *, now: datetime, batch_size: int = BATCH_SIZE) -> list[Step]:
    """Soft-delete up to ``batch_size`` due clips (hidden, bytes kept), each with an audit event."""
    done: list[Step] = []
    for bucket in _buckets(db):
        rows = db.execute(_locked(_due_query(bucket, now), batch_size - len(done))).all()
        if not rows:
            continue
        rule = bucket.rule()
        db.execute(
            update(Clip)
            .where(Clip.id.in_([r.id for r in rows]))
            .values(deleted_at=now, deletion_rule=rule)
            .execution_options(synchronize_session=False)
        )
        for r in rows:
            audit.record(
                db,
                actor=actor,
                action=AuditAction.FOOTAGE_CLIP_DELETED,
                target=Target("clip", str(r.id)),
                reason=rule,
                details={"sha256": r.sha256, "recorded_at": r.recorded_at.isoformat(), "rule": rule},
            )
            done.append(Step("delete", r.id, r.sha256, r.recorded_at, rule))
        if len(done) >= batch_size:
            break
    return done


def destroy_expired_batch(
    db: Session, actor: Actor, *, now: datetime, window: timedelta, batch_size: int = BATCH_SIZE
) -> list[Step]:
    """Mark up to ``batch_size`` deleted clips whose window has passed destroyed, each with an audit
    event; their objects are deleted by :func:`purge` once this commits."""
    rows = db.execute(_locked(_expired_query(now, window), batch_size)).all()
    rule = _destroy_rule(window)
    if rows:
        db.execute(
            update(Clip)
            .where(Clip.id.in_([r.id for r in rows]))
            .values(destroyed_at=now)
            .execution_options(synchronize_session=False)
        )
    for r in rows:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_CLIP_DESTROYED,
            target=Target("clip", str(r.id)),
            reason=rule,
            details={"sha256": r.sha256, "rule": rule},
        )
    return [Step("destroy", r.id, r.sha256, r.recorded_at, rule) for r in rows]


async def _delete_objects(store: ObjectStore, keys: list[str]) -> None:
    for key in keys:
        await store.delete(key)


def purge(
    factory: sessionmaker[Session], store: ObjectStore, *, now: datetime, batch_size: int = BATCH_SIZE
) -> int:
    """Delete the objects (clip, poster, thumbnails) of destroyed clips not yet purged, a batch at a
    time, then record them purged; how many clips. Deleting an object already gone is no error, so
    a run cut short repeats this safely."""
    purged = 0
    while True:
        with transaction(factory) as db:
            rows = db.execute(
                select(Clip.id, Clip.storage_key, Clip.poster_key, Clip.thumbnails_key)
                .where(text(PURGE_PENDING))
                .order_by(Clip.destroyed_at, Clip.id)
                .limit(batch_size)
            ).all()
        if not rows:
            return purged
        keys = [key for r in rows for key in (r.storage_key, r.poster_key, r.thumbnails_key) if key]
        asyncio.run(_delete_objects(store, keys))
        with transaction(factory) as db:
            db.execute(
                update(Clip)
                .where(Clip.id.in_([r.id for r in rows]))
                .values(purged_at=now)
                .execution_options(synchronize_session=False)
            )
        purged += len(rows)


@dataclass(frozen=True)
class RunResult:
    deleted: int
    destroyed: int
    purged: int


def run_retention(
    factory: sessionmaker[Session],
    store: ObjectStore,
    actor: Actor,
    *,
    now: datetime,
    window: timedelta,
    batch_size: int = BATCH_SIZE,
) -> RunResult:
    """The nightly run: destroy the deleted clips whose window has passed (then delete their
    objects), then soft-delete the clips now due; each batch commits on its own. One audit event
    sums the run up."""
    purge(factory, store, now=now, batch_size=batch_size)
    destroyed = deleted = 0
    while True:
        with transaction(factory) as db:
            batch = destroy_expired_batch(db, actor, now=now, window=window, batch_size=batch_size)
        destroyed += len(batch)
        if len(batch) < batch_size:
            break
    purged = purge(factory, store, now=now, batch_size=batch_size)
    while True:
        with transaction(factory) as db:
            steps = delete_due_batch(db, actor, now=now, batch_size=batch_size)
        deleted += len(steps)
        if len(steps) < batch_size:
            break
    with transaction(factory) as db:
        audit.record(
            db,
            actor=actor,
            action=AuditAction.FOOTAGE_RETENTION_RAN,
            target=Target("footage_retention", now.date().isoformat()),
            details={
                "deleted": deleted,
                "destroyed": destroyed,
                "purged": purged,
                "window_days": window.days,
            },
        )
    return RunResult(deleted=deleted, destroyed=destroyed, purged=purged)


def recovery_window(settings: Settings) -> timedelta:
    """How long a deleted clip stays recoverable before its bytes are destroyed."""
    return timedelta(days=settings.footage_recovery_days)


def restore_clip(
    db: Session, actor: Actor, clip_id: int, *, reason: str, window: timedelta, now: datetime | None = None
) -> ClipView | None:
    """Bring back a deleted clip inside its recoverable window (its bytes were never touched); its
    category's period runs again from now. None when there is no such clip; ``Conflict`` when it is
    not deleted, or its bytes are destroyed or due to be."""
    now = now or clock.now()
    why = reason.strip()
    if not why:
        raise InvalidInput("reason", "Say why.")
    clip = db.scalar(select(Clip).where(Clip.id == clip_id).with_for_update())
    if clip is None:
        return None
    if clip.deleted_at is None:
        raise Conflict("The clip is not deleted.", rule="not_deleted")
    if clip.destroyed_at is not None or clip.deleted_at <= now - window:
        raise Conflict(
            "The clip's recoverable window has passed: its bytes are destroyed or about to be.",
            rule="window_passed",
        )
    deleted_at, rule = clip.deleted_at, clip.deletion_rule
    clip.deleted_at = None
    clip.deletion_rule = None
    clip.restored_at = now
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FOOTAGE_CLIP_RESTORED,
        target=Target("clip", str(clip.id)),
        reason=why,
        details={"sha256": clip.sha256, "deleted_at": deleted_at.isoformat(), "deletion_rule": rule},
    )
    return clip_view(db, clip)


def list_recoverable(db: Session, *, limit: int, offset: int) -> tuple[list[Clip], int]:
    """The deleted clips still recoverable (bytes kept), oldest deletion first, with the total."""
    query = select(Clip).where(text(RECOVERABLE))
    total = db.scalar(select(func.count()).select_from(query.subquery())) or 0
    clips = list(db.scalars(query.order_by(Clip.deleted_at, Clip.id).limit(limit).offset(offset)))
    return clips, total
