"""Footage for every use of Taser: the clips linked to a report, found by the officer's own camera,
by tracks that passed near the place, and by cameras that telemetry put near it, in a window around
the time; linked clips kept as evidence; footage that docks later linked when it is probed; and a use
still without footage after the grace period raised as an exception."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, footage, live
from openbwv.audit import AuditAction, Target
from openbwv.policy import SYSTEM
from openbwv.taser.exceptions import raise_exception
from openbwv.taser.models import ClipLink, Deployment, TaserException
from openbwv.taser.settings import setting

NEW_FOOTAGE_LOOKBACK = timedelta(minutes=10)
"""The job that links footage docked after a report reads the clips probed this long ago or later:
runs overlap, so one missed or cut short is covered by the next (the links are idempotent), and the
grace-period check links every report once more before it raises an exception."""
EXCEPTION_LOOKBACK = timedelta(days=7)
"""How far past its grace period a report is still checked for footage by the periodic job."""


def _window(db: Session, at: datetime) -> tuple[datetime, datetime]:
    reach = timedelta(minutes=setting(db, "link_window_minutes"))
    return at - reach, at + reach


def _linked(db: Session, deployment_id: int) -> set[int]:
    return set(db.scalars(select(ClipLink.clip_id).where(ClipLink.deployment_id == deployment_id)))


def _store_links(db: Session, deployment: Deployment, found: dict[int, str], *, now: datetime) -> list[int]:
    """Link the clips not linked before, flag them as evidence, audit the links; their ids."""
    new = {clip_id: reason for clip_id, reason in found.items() if clip_id not in _linked(db, deployment.id)}
    if not new:
        return []
    for clip_id, reason in sorted(new.items()):
        db.add(ClipLink(deployment_id=deployment.id, clip_id=clip_id, reason=reason, linked_at=now))
    db.flush()
    footage.keep_as_evidence(db, sorted(new), reason=f"footage of Taser deployment report {deployment.id}")
    audit.record(
        db,
        actor=SYSTEM,
        action=AuditAction.TASER_FOOTAGE_LINKED,
        target=Target("taser_deployment", str(deployment.id)),
        details={"clips": sorted(new), "reasons": sorted(set(new.values()))},
    )
    _close_no_footage(db, deployment.id, now=now)
    return sorted(new)


def _close_no_footage(db: Session, deployment_id: int, *, now: datetime) -> None:
    """Footage linked after a no-footage exception was raised explains it."""
    open_exception = db.scalar(
        select(TaserException).where(
            TaserException.kind == "no_footage",
            TaserException.deployment_id == deployment_id,
            TaserException.explained_at.is_(None),
        )
    )
    if open_exception is not None:
        open_exception.explanation = "footage_arrived"
        open_exception.explanation_text = "Footage of the use was linked after the exception was raised."
        open_exception.explained_by = SYSTEM.username
        open_exception.explained_at = now


def link_footage(db: Session, deployment: Deployment, *, now: datetime | None = None) -> list[int]:
    """Find and link the report's footage: clips of the officer's own camera, clips whose track
    passed within the radius, and clips of cameras telemetry put within the radius, each running
    within the window around the use. The ids of the clips newly linked."""
    radius = setting(db, "link_radius_m")
    start, end = _window(db, deployment.occurred_at)
    found: dict[int, str] = {}
    for span in footage.officer_clips(db, deployment.officer_id, start, end):
        found.setdefault(span.id, "own_camera")
    for span in footage.clips_near(db, deployment.lat, deployment.lon, radius, start, end):
        found.setdefault(span.id, "nearby_track")
    nearby_cameras = live.cameras_near(db, deployment.lat, deployment.lon, radius, start, end)
    for span in footage.camera_clips(db, nearby_cameras, start, end):
        found.setdefault(span.id, "nearby_telemetry")
    return _store_links(db, deployment, found, now=now or clock.now())


def _why_linked(
    db: Session, span: footage.ClipSpan, deployment: Deployment, radius: float, reach: timedelta
) -> str | None:
    if span.officer_id == deployment.officer_id:
        return "own_camera"
    if footage.passed_near(db, span.id, deployment.lat, deployment.lon, radius):
        return "nearby_track"
    start, end = deployment.occurred_at - reach, deployment.occurred_at + reach
    # Only the clip's camera: read by camera and time, not every camera's positions in the window.
    near = live.cameras_near(
        db, deployment.lat, deployment.lon, radius, start, end, serials=[span.camera_serial]
    )
    return "nearby_telemetry" if near else None


def link_clips(db: Session, spans: Iterable[footage.ClipSpan], *, now: datetime | None = None) -> int:
    """Link clips that docked after the reports they belong to: each is matched against the reports
    of uses within the window of its running time. The number of links made."""
    now = now or clock.now()
    radius = setting(db, "link_radius_m")
    reach = timedelta(minutes=setting(db, "link_window_minutes"))
    made = 0
    for span in spans:
        linked = set(db.scalars(select(ClipLink.deployment_id).where(ClipLink.clip_id == span.id)))
        candidates = db.scalars(
            select(Deployment)
            .where(Deployment.occurred_at >= span.start - reach, Deployment.occurred_at <= span.end + reach)
            .order_by(Deployment.id)
        )
        for deployment in candidates:
            if deployment.id in linked:
                continue
            reason = _why_linked(db, span, deployment, radius, reach)
            if reason is not None:
                made += len(_store_links(db, deployment, {span.id: reason}, now=now))
    return made


def link_new_footage(db: Session, *, now: datetime | None = None) -> int:
    """The periodic job's work: link the clips probed in the last ``NEW_FOOTAGE_LOOKBACK``."""
    now = now or clock.now()
    return link_clips(db, footage.clips_probed_since(db, now - NEW_FOOTAGE_LOOKBACK), now=now)


def raise_no_footage(db: Session, *, now: datetime | None = None) -> int:
    """Raise a ``no_footage`` exception on each use past the grace period (and at most
    ``EXCEPTION_LOOKBACK`` past it) with no footage linked, after looking for its footage once more.
    The number raised."""
    now = now or clock.now()
    due = now - timedelta(hours=setting(db, "footage_grace_hours"))
    bare = db.scalars(
        select(Deployment)
        .where(
            Deployment.occurred_at <= due,
            Deployment.occurred_at > due - EXCEPTION_LOOKBACK,
            ~exists().where(ClipLink.deployment_id == Deployment.id),
            ~exists().where(
                TaserException.deployment_id == Deployment.id, TaserException.kind == "no_footage"
            ),
        )
        .order_by(Deployment.occurred_at, Deployment.id)
    ).all()
    raised = 0
    for deployment in bare:
        if link_footage(db, deployment, now=now):
            continue
        exception = raise_exception(
            db,
            "no_footage",
            taser_serial=deployment.taser_serial,
            occurred_at=deployment.occurred_at,
            deployment_id=deployment.id,
            details={
                "incident_number": deployment.incident_number,
                "highest_level": deployment.highest_level,
            },
            now=now,
        )
        raised += exception is not None
    return raised


def linked_clips(db: Session, deployment_ids: Iterable[int]) -> dict[int, list[ClipLink]]:
    """Each report's links, oldest clip first."""
    ids = sorted(set(deployment_ids))
    links: dict[int, list[ClipLink]] = {i: [] for i in ids}
    if ids:
        for link in db.scalars(
            select(ClipLink).where(ClipLink.deployment_id.in_(ids)).order_by(ClipLink.clip_id)
        ):
            links[link.deployment_id].append(link)
    return links
