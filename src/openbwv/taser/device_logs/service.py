"""Importing Taser handle logs: checked row by row, stored once however often a file is sent, audited,
and reconciled with the deployment reports at once."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from openbwv import audit, clock, fleet
from openbwv.audit import AuditAction, Target
from openbwv.errors import InvalidInput, OpenbwvError
from openbwv.inputs import control_character_problem
from openbwv.policy import Actor
from openbwv.taser import reconcile, recording
from openbwv.taser.device_logs.parse import FORMATS, LogUnreadable, ParsedEntry, RowError, parse_log
from openbwv.taser.models import FILE_NAME_LENGTH, DeviceLogEntry, DeviceLogImport
from openbwv.taser.settings import setting

BATCH = 1000


@dataclass
class ImportReport:
    """What an import found: rows read, new (stored, or to be stored on a dry run), stored, already
    there, refused with why, and the exceptions reconciliation raised."""

    dry_run: bool
    format: str
    file_name: str | None
    import_id: int | None = None
    rows_read: int = 0
    rows_new: int = 0
    rows_stored: int = 0
    rows_duplicate: int = 0
    rows_refused: int = 0
    errors: list[RowError] = field(default_factory=list)
    exceptions_raised: int = 0


class DeviceLogRefused(OpenbwvError):
    """A log refused as a whole, nothing stored (422): the rule and a message naming what is wrong."""

    status_code = 422

    def __init__(self, rule: str, message: str, errors: list[RowError] | None = None) -> None:
        detail: dict[str, Any] = {"rule": rule, "message": message}
        if errors is not None:
            detail["errors"] = [{"row": e.row, "message": e.message} for e in errors]
        super().__init__(message, detail=detail)
        self.rule = rule


def _checked_file_name(file_name: str | None) -> str | None:
    if file_name is None or not file_name.strip():
        return None
    name = file_name.strip()
    if control_character_problem(name):
        raise InvalidInput("file_name", "the file name must not contain control characters such as NUL")
    if len(name) > FILE_NAME_LENGTH:
        raise InvalidInput("file_name", f"the file name is longer than {FILE_NAME_LENGTH} characters")
    return name


def _refuse_unknown_tasers(db: Session, entries: list[ParsedEntry]) -> None:
    serials = {e.taser_serial for e in entries}
    unknown = sorted(serials - fleet.serials_of_kind(db, "taser", among=serials))
    if unknown:
        named = ", ".join(unknown[:10]) + (f" and {len(unknown) - 10} more" if len(unknown) > 10 else "")
        raise DeviceLogRefused(
            "taser_not_in_fleet",
            f"No Taser in the fleet has serial {named}; nothing from this log is stored.",
        )


def _stored_keys(db: Session, entries: list[ParsedEntry]) -> set[tuple[str, datetime, str, int | None]]:
    """The keys of ``entries`` already stored, read per Taser over the file's span of time."""
    found: set[tuple[str, datetime, str, int | None]] = set()
    by_serial: dict[str, list[datetime]] = {}
    for entry in entries:
        by_serial.setdefault(entry.taser_serial, []).append(entry.occurred_at)
    for serial, times in by_serial.items():
        rows = db.execute(
            select(
                DeviceLogEntry.taser_serial,
                DeviceLogEntry.occurred_at,
                DeviceLogEntry.kind,
                DeviceLogEntry.bay,
            ).where(
                DeviceLogEntry.taser_serial == serial,
                DeviceLogEntry.occurred_at.between(min(times), max(times)),
            )
        )
        found.update((row.taser_serial, row.occurred_at, row.kind, row.bay) for row in rows)
    return found


def _insert_ignoring_stored(db: Session, rows: list[dict[str, Any]]) -> None:
    """Insert entries, skipping any another import stored meanwhile (the unique indexes decide)."""
    dialect = postgresql if db.connection().dialect.name == "postgresql" else sqlite
    table = DeviceLogEntry.__table__
    for start in range(0, len(rows), BATCH):
        db.execute(dialect.insert(table).on_conflict_do_nothing(), rows[start : start + BATCH])


def import_device_log(
    db: Session,
    actor: Actor,
    *,
    content: str,
    log_format: str,
    file_name: str | None = None,
    dry_run: bool = False,
    skip_bad: bool = False,
    now: datetime | None = None,
) -> ImportReport:
    """Import a Taser handle's event log (CSV or JSON). A dry run checks every row and stores nothing;
    otherwise a file with a bad row stores nothing unless ``skip_bad``. Entries already stored are
    counted, not stored again. The import is audited, and reconciled with the reports at once."""
    now = now or clock.now()
    if log_format not in FORMATS:
        raise InvalidInput("format", f"the format must be csv or json, not {log_format!r}")
    name = _checked_file_name(file_name)
    tolerance = timedelta(seconds=setting(db, "device_time_tolerance_s"))
    try:
        entries, errors = parse_log(content, log_format, latest=now + tolerance)
    except LogUnreadable as exc:
        raise DeviceLogRefused("device_log_unreadable", f"The device log cannot be read: {exc}.") from exc
    report = ImportReport(dry_run=dry_run, format=log_format, file_name=name)
    report.rows_read = len(entries) + len(errors)
    report.errors = errors
    report.rows_refused = len(errors)
    _refuse_unknown_tasers(db, entries)
    if errors and not dry_run and not skip_bad:
        first = errors[0]
        raise DeviceLogRefused(
            "device_log_rows_invalid",
            f"{len(errors)} bad row{'s' if len(errors) != 1 else ''}, nothing stored; "
            f"row {first.row}: {first.message}",
            errors,
        )
    stored = _stored_keys(db, entries)
    new: dict[tuple[str, datetime, str, int | None], ParsedEntry] = {}
    for entry in entries:
        if entry.key not in stored:
            new.setdefault(entry.key, entry)
    report.rows_new = len(new)
    if dry_run:
        report.rows_duplicate = len(entries) - len(new)
        return report

    log_import = DeviceLogImport(
        imported_by=actor.username,
        imported_at=now,
        file_name=name,
        format=log_format,
        sha256=hashlib.sha256(content.encode()).hexdigest(),
        rows_read=report.rows_read,
        rows_stored=0,
        rows_duplicate=0,
        rows_refused=report.rows_refused,
    )
    db.add(log_import)
    db.flush()
    _insert_ignoring_stored(
        db,
        [
            {
                "taser_serial": e.taser_serial,
                "occurred_at": e.occurred_at,
                "kind": e.kind,
                "sequence": e.sequence,
                "duration_s": e.duration_s,
                "bay": e.bay,
                "battery_percent": e.battery_percent,
                "temperature_c": e.temperature_c,
                "import_id": log_import.id,
            }
            for e in new.values()
        ],
    )
    stored_now = db.scalar(
        select(func.count()).select_from(DeviceLogEntry).where(DeviceLogEntry.import_id == log_import.id)
    )
    log_import.rows_stored = report.rows_stored = stored_now or 0
    log_import.rows_duplicate = report.rows_duplicate = len(entries) - report.rows_stored
    report.import_id = log_import.id
    serials = sorted({e.taser_serial for e in entries})
    audit.record(
        db,
        actor=actor,
        action=AuditAction.TASER_DEVICE_LOG_IMPORTED,
        target=Target("taser_device_log_import", str(log_import.id)),
        details={
            "file_name": name,
            "format": log_format,
            "sha256": log_import.sha256,
            "tasers": serials,
            "rows_read": report.rows_read,
            "rows_stored": report.rows_stored,
            "rows_duplicate": report.rows_duplicate,
            "rows_refused": report.rows_refused,
        },
    )
    for armed in (e for e in new.values() if e.kind == "armed"):
        # A handle that syncs as it is armed (a connected dock or radio link) starts the cameras
        # recording as a camera's own armed message does; an arming logged long ago commands nobody.
        recording.start_recording(
            db, source="device_log", taser_serial=armed.taser_serial, armed_at=armed.occurred_at, now=now
        )
    if entries:
        times = [e.occurred_at for e in entries]
        report.exceptions_raised = reconcile.reconcile_imported(
            db, serials=serials, since=min(times), until=max(times), now=now
        )
    return report


@dataclass(frozen=True)
class EntryFilter:
    taser_serial: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_entries(
    db: Session, *, where: EntryFilter, limit: int, offset: int
) -> tuple[list[DeviceLogEntry], int]:
    """Device log entries, oldest first, by Taser and time (``since`` inclusive, ``until`` not)."""
    clauses = []
    if where.taser_serial is not None:
        clauses.append(DeviceLogEntry.taser_serial == where.taser_serial.strip().upper())
    if where.since is not None:
        clauses.append(DeviceLogEntry.occurred_at >= where.since)
    if where.until is not None:
        clauses.append(DeviceLogEntry.occurred_at < where.until)
    total = db.scalar(select(func.count()).select_from(DeviceLogEntry).where(*clauses)) or 0
    rows = db.scalars(
        select(DeviceLogEntry)
        .where(*clauses)
        .order_by(DeviceLogEntry.occurred_at, DeviceLogEntry.id)
        .limit(limit)
        .offset(offset)
    ).all()
    return list(rows), total
