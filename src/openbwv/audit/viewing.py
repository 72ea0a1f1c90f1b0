"""Misuse rules over who watches whom: live views and footage plays.

A live view is a grant of access of kind ``live_view`` (``openbwv.live.views``): its
``access:grant:granted`` event starts it, ``access:grant:renewed`` events extend it and an
``access:grant:ended`` event ends it; one that is neither ended nor renewed lasts until its
``expires_at``. Each event's details carry the grant id, the camera's serial, the officer wearing it
(``subject_officer_id``) and the stated incident number. A footage play or download is a
``footage:clip:viewed`` or ``footage:clip:exported`` event whose details carry ``subject_officer_id``. Thresholds are data (``openbwv.audit.thresholds``).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, ClassVar

from sqlalchemy.orm import Session

from openbwv.audit.actions import AuditAction
from openbwv.audit.misuse import Finding, Rule, events_in
from openbwv.audit.service import Target
from openbwv.audit.thresholds import Threshold

LIVE_VIEW = "live_view"


@dataclass
class _View:
    """One live view as its audit events tell it."""

    start: Any
    camera: str
    expires_at: datetime
    ended_at: datetime | None = None
    event_ids: list[int] = field(default_factory=list)

    def end(self, now: datetime) -> datetime:
        """When it ended, expired, or (still live) ``now``."""
        return self.ended_at or min(self.expires_at, now)

    def live(self, now: datetime) -> bool:
        return self.ended_at is None and self.expires_at > now


def _live_views(db: Session, *, since: datetime, until: datetime) -> list[_View]:
    """The live views started in ``(since, until]``, with what happened to them up to ``until``."""
    actions = [
        AuditAction.ACCESS_GRANT_GRANTED,
        AuditAction.ACCESS_GRANT_RENEWED,
        AuditAction.ACCESS_GRANT_ENDED,
    ]
    views: dict[int, _View] = {}
    for row in events_in(db, since=since, until=until, actions=actions):
        details = row.details or {}
        grant = details.get("grant")
        if details.get("kind") != LIVE_VIEW or not isinstance(grant, int):
            continue
        expires_at = datetime.fromisoformat(str(details.get("expires_at")))
        if row.action == AuditAction.ACCESS_GRANT_GRANTED:
            camera = str(details.get("camera_serial") or row.target_id)
            views[grant] = _View(start=row, camera=camera, expires_at=expires_at)
        elif grant not in views:
            continue
        elif row.action == AuditAction.ACCESS_GRANT_RENEWED:
            views[grant].expires_at = expires_at
        else:
            views[grant].ended_at = row.occurred_at
        views[grant].event_ids.append(row.id)
    return list(views.values())


@dataclass(frozen=True)
class LongLiveViewWithoutIncident:
    """A live view (renewals included) lasting more than ``minutes`` whose viewer gave no incident
    number when opening it (only details). Views whose start predates incident numbers in the
    event's details are not judged."""

    minutes: int = 20
    lookback: timedelta = timedelta(days=1)
    name: str = "long_live_view_without_incident"
    thresholds: ClassVar[tuple[Threshold, ...]] = (Threshold("minutes", 20, 1, 1440, "minutes"),)

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        findings = []
        for view in _live_views(db, since=now - self.lookback, until=now):
            details = view.start.details or {}
            if view.start.id in cited or "incident_number" not in details or details["incident_number"]:
                continue
            length = view.end(now) - view.start.occurred_at
            if length > timedelta(minutes=self.minutes):
                viewer = view.start.actor_username
                findings.append(
                    Finding(
                        self.name,
                        Target("user", viewer),
                        tuple(view.event_ids),
                        f"{viewer} watched camera {view.camera} live for {int(length.total_seconds() // 60)} "
                        f"minutes without an incident number",
                    )
                )
        return findings


@dataclass(frozen=True)
class OfficerWatchedRepeatedly:
    """One viewer watching the same officer (live, or playing or downloading footage of them) on at
    least ``days`` distinct days (UTC) within ``window_days``."""

    days: int = 3
    window_days: int = 14
    name: str = "officer_watched_repeatedly"
    thresholds: ClassVar[tuple[Threshold, ...]] = (
        Threshold("days", 3, 2, 90, "days", at_most="window_days"),
        Threshold("window_days", 14, 2, 90, "days"),
    )

    @property
    def lookback(self) -> timedelta:
        return timedelta(days=self.window_days)

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        actions = [
            AuditAction.ACCESS_GRANT_GRANTED,
            AuditAction.FOOTAGE_CLIP_VIEWED,
            AuditAction.FOOTAGE_CLIP_EXPORTED,
        ]
        groups: dict[tuple[str, int], list[Any]] = defaultdict(list)
        for row in events_in(db, since=now - self.lookback, until=now, actions=actions):
            details = row.details or {}
            subject = details.get("subject_officer_id")
            if row.action == AuditAction.ACCESS_GRANT_GRANTED and details.get("kind") != LIVE_VIEW:
                continue
            if row.id not in cited and row.actor_user_id is not None and isinstance(subject, int):
                groups[(row.actor_username, subject)].append(row)
        findings = []
        for (viewer, subject), rows in sorted(groups.items()):
            days = {row.occurred_at.date() for row in rows}
            if len(days) >= self.days:
                findings.append(
                    Finding(
                        self.name,
                        Target("user", viewer),
                        tuple(row.id for row in rows),
                        f"{viewer} watched officer {subject} on {len(days)} days within {self.window_days} days",
                    )
                )
        return findings


@dataclass(frozen=True)
class LiveViewBrowsing:
    """One viewer opening at least ``views`` short live views (each over in under ``max_seconds``)
    of at least ``cameras`` cameras, all started within ``window_minutes``: browsing, not watching."""

    views: int = 5
    max_seconds: int = 60
    cameras: int = 5
    window_minutes: int = 30
    name: str = "live_view_browsing"
    thresholds: ClassVar[tuple[Threshold, ...]] = (
        Threshold("views", 5, 2, 100, "views"),
        Threshold("max_seconds", 60, 1, 3600, "seconds"),
        Threshold("cameras", 5, 1, 100, "cameras", at_most="views"),
        Threshold("window_minutes", 30, 1, 1440, "minutes"),
    )

    @property
    def lookback(self) -> timedelta:
        return timedelta(minutes=self.window_minutes)

    def evaluate(self, db: Session, *, now: datetime, cited: set[int]) -> list[Finding]:
        short: dict[str, list[_View]] = defaultdict(list)
        for view in _live_views(db, since=now - self.lookback, until=now):
            if view.start.id in cited or view.live(now):
                continue
            if view.end(now) - view.start.occurred_at < timedelta(seconds=self.max_seconds):
                short[view.start.actor_username].append(view)
        findings = []
        for viewer, views in sorted(short.items()):
            cameras = {view.camera for view in views}
            if len(views) >= self.views and len(cameras) >= self.cameras:
                findings.append(
                    Finding(
                        self.name,
                        Target("user", viewer),
                        tuple(i for view in views for i in view.event_ids),
                        f"{viewer} opened {len(views)} live views of under {self.max_seconds} seconds "
                        f"across {len(cameras)} cameras within {self.window_minutes} minutes",
                    )
                )
        return findings


def viewing_rules() -> list[Rule]:
    """The rules over live views and footage plays; they need no provider."""
    return [LongLiveViewWithoutIncident(), OfficerWatchedRepeatedly(), LiveViewBrowsing()]
