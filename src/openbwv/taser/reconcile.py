"""Reconciling the Tasers' own logs with the deployment reports.

- A trigger pull or arc (an entry of kind ``trigger`` or ``arc``) is judged once its report is due,
  ``report_due_hours`` after it. A report *accounts for* it when the report is on the same Taser, says
  it was used within ``device_match_hours`` of the entry's time either way, and was filed by the due
  time. Else, a spark test (the daily function check) is told apart: no cartridge deployed within
  ``device_time_tolerance_s``, lasting at most ``spark_test_max_s``, and the Taser held by nobody (in
  the armoury) or issued at most ``spark_test_window_minutes`` before. Anything else is an
  ``unreported_trigger`` exception. Each entry keeps its verdict (``reported``, ``spark_test``,
  ``unreported``) and the report that accounts for it, so spark tests stay visible.
- A report of a use the handle records (arced, drive stun, angled drive stun, fired) is compared
  with the nearest trigger pull, arc or cartridge deployed on its Taser within ``device_match_hours``:
  more than ``device_time_tolerance_s`` apart is a ``time_mismatch`` exception on the report. No
  entry that near says nothing: the log may not be imported yet.

Every time is compared in UTC; ``now`` comes from the one clock.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from openbwv import clock, fleet
from openbwv.taser.exceptions import raise_exception
from openbwv.taser.models import Deployment, DeviceLogEntry, TaserException
from openbwv.taser.settings import setting
from openbwv.taser.vocabulary import DISCHARGE_LEVELS

USE_KINDS = ("trigger", "arc")
"""Entries that are a use of the Taser's current, each needing a report unless a spark test."""
DEVICE_TIME_KINDS = ("trigger", "arc", "cartridge_deployed")
"""Entries a report's time is compared with."""
LOGGED_LEVELS = DISCHARGE_LEVELS | {"arced"}
"""Levels the handle records as a trigger pull or arc; drawn, aimed and red dot leave no entry."""
BATCH = 500


@dataclass(frozen=True)
class Rules:
    due: timedelta
    tolerance: timedelta
    match: timedelta
    spark_test_max_s: float
    spark_test_window: timedelta


def rules(db: Session) -> Rules:
    """The reconciliation settings as they stand."""
    return Rules(
        due=timedelta(hours=setting(db, "report_due_hours")),
        tolerance=timedelta(seconds=setting(db, "device_time_tolerance_s")),
        match=timedelta(hours=setting(db, "device_match_hours")),
        spark_test_max_s=setting(db, "spark_test_max_s"),
        spark_test_window=timedelta(minutes=setting(db, "spark_test_window_minutes")),
    )


@dataclass(frozen=True)
class Reconciled:
    judged: int
    raised: int


def _nearest_report(db: Session, entry: DeviceLogEntry, rule: Rules) -> Deployment | None:
    at = entry.occurred_at
    reports = db.scalars(
        select(Deployment).where(
            Deployment.taser_serial == entry.taser_serial,
            Deployment.occurred_at.between(at - rule.match, at + rule.match),
        )
    ).all()
    return min(reports, key=lambda d: (abs(d.occurred_at - at), d.id), default=None)


def _cartridge_bays(db: Session, entry: DeviceLogEntry, rule: Rules) -> list[int]:
    at = entry.occurred_at
    bays = db.scalars(
        select(DeviceLogEntry.bay).where(
            DeviceLogEntry.taser_serial == entry.taser_serial,
            DeviceLogEntry.kind == "cartridge_deployed",
            DeviceLogEntry.occurred_at.between(at - rule.tolerance, at + rule.tolerance),
        )
    )
    return sorted({bay for bay in bays if bay is not None} | ({entry.bay} if entry.bay else set()))


def _is_spark_test(db: Session, entry: DeviceLogEntry, rule: Rules, bays: list[int]) -> bool:
    if bays or entry.duration_s is None or entry.duration_s > rule.spark_test_max_s:
        return False
    at = entry.occurred_at
    if fleet.holder_at(db, entry.taser_serial, at) is None:
        return True
    periods = fleet.list_issue_periods(db, device_kind="taser", since=at - rule.spark_test_window, until=at)
    return any(
        p.device_serial == entry.taser_serial and at - rule.spark_test_window <= p.issued_at <= at
        for p in periods
    )


def _judge(db: Session, entry: DeviceLogEntry, rule: Rules, now: datetime) -> bool:
    """Decide one due entry's verdict; True when it raised an ``unreported_trigger``."""
    due_at = entry.occurred_at + rule.due
    report = _nearest_report(db, entry, rule)
    entry.reconciled_at = now
    if report is not None and report.created_at <= due_at:
        entry.verdict, entry.deployment_id = "reported", report.id
        return False
    bays = _cartridge_bays(db, entry, rule)
    if _is_spark_test(db, entry, rule, bays):
        entry.verdict = "spark_test"
        return False
    entry.verdict = "unreported"
    details: dict[str, object] = {
        "trigger_at": entry.occurred_at.isoformat(),
        "event": entry.kind,
        "duration_s": entry.duration_s,
        "cartridge_bays": bays,
        "due_at": due_at.isoformat(),
    }
    if report is not None:
        details["late_report"] = report.id
        details["late_report_filed_at"] = report.created_at.isoformat()
    raised = raise_exception(
        db,
        "unreported_trigger",
        taser_serial=entry.taser_serial,
        occurred_at=entry.occurred_at,
        details=details,
        now=now,
    )
    return raised is not None


def reconcile_due_entries(
    db: Session, *, now: datetime | None = None, serials: list[str] | None = None, limit: int | None = None
) -> Reconciled:
    """Judge the trigger pulls and arcs whose report is now due and that have no verdict yet (of
    ``serials`` only, if given; at most ``limit``, oldest first)."""
    now = now or clock.now()
    rule = rules(db)
    query = (
        select(DeviceLogEntry)
        .where(
            DeviceLogEntry.verdict.is_(None),
            DeviceLogEntry.kind.in_(USE_KINDS),
            DeviceLogEntry.occurred_at <= now - rule.due,
        )
        .order_by(DeviceLogEntry.occurred_at, DeviceLogEntry.id)
    )
    if serials is not None:
        query = query.where(DeviceLogEntry.taser_serial.in_(serials))
    if limit is not None:
        query = query.limit(limit)
    entries = db.scalars(query).all()
    raised = sum(_judge(db, entry, rule, now) for entry in entries)
    db.flush()
    return Reconciled(judged=len(entries), raised=raised)


def reconcile_report(
    db: Session, deployment: Deployment, *, now: datetime | None = None
) -> TaserException | None:
    """Compare a report's time with its Taser's log: a ``time_mismatch`` exception when the nearest
    trigger pull, arc or cartridge deployed within ``device_match_hours`` is more than
    ``device_time_tolerance_s`` away; None otherwise (or when it is raised already). Call it when a
    report is filed or its time edited, and for reports near newly imported entries."""
    if not LOGGED_LEVELS & set(deployment.levels):
        return None
    rule = rules(db)
    at = deployment.occurred_at.astimezone(UTC)
    nearest = db.execute(
        select(DeviceLogEntry.occurred_at, DeviceLogEntry.kind)
        .where(
            DeviceLogEntry.taser_serial == deployment.taser_serial,
            DeviceLogEntry.kind.in_(DEVICE_TIME_KINDS),
            DeviceLogEntry.occurred_at.between(at - rule.match, at + rule.match),
        )
        .order_by(DeviceLogEntry.occurred_at)
    ).all()
    if not nearest:
        return None
    device_at, kind = min(nearest, key=lambda row: abs(row.occurred_at - at))
    difference = abs(device_at - at)
    if difference <= rule.tolerance:
        return None
    return raise_exception(
        db,
        "time_mismatch",
        taser_serial=deployment.taser_serial,
        occurred_at=at,
        deployment_id=deployment.id,
        details={
            "report_at": at.isoformat(),
            "device_at": device_at.isoformat(),
            "device_event": kind,
            "difference_s": round(difference.total_seconds()),
            "tolerance_s": round(rule.tolerance.total_seconds()),
        },
        now=now,
    )


def reconcile_imported(
    db: Session, *, serials: list[str], since: datetime, until: datetime, now: datetime | None = None
) -> int:
    """After an import of ``serials``' entries from ``since`` to ``until``: check the reports near
    them for a time mismatch, and judge the entries already due. The number of exceptions raised."""
    now = now or clock.now()
    rule = rules(db)
    reports = db.scalars(
        select(Deployment).where(
            Deployment.taser_serial.in_(serials),
            Deployment.occurred_at.between(since - rule.match, until + rule.match),
        )
    ).all()
    raised = sum(reconcile_report(db, report, now=now) is not None for report in reports)
    while True:
        judged = reconcile_due_entries(db, now=now, serials=serials, limit=BATCH)
        raised += judged.raised
        if judged.judged < BATCH:
            return raised
