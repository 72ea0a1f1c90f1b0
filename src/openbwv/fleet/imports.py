"""Bulk import and export: officers (the HR export) and devices (a supplier's delivery note) as CSV.

One validation pass over every row, a handful of queries for the whole file, then batched inserts.
A file with any bad row imports nothing unless the caller asks to skip bad rows; a dry run checks
and reports without writing.
"""

from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import Table, insert, literal, select
from sqlalchemy.orm import Session

from openbwv import audit, clock, people
from openbwv.audit import AuditAction, Target
from openbwv.db import UTCDateTime, bulk_insert, in_values
from openbwv.errors import OpenbwvError
from openbwv.fleet.devices import DeviceFilter, list_devices, list_taser_models
from openbwv.fleet.models import DEVICE_KINDS, Device, Movement
from openbwv.inputs import CONTROL_MESSAGE, column_length, control_character_problem
from openbwv.policy import Actor
from openbwv.spreadsheet import to_csv, unescape_cell

OFFICER_COLUMNS = ("collar_number", "name", "rank", "unit")
DEVICE_COLUMNS = ("kind", "serial", "model", "firmware", "station", "pooled")
_COLLAR = re.compile(r"^[A-Za-z0-9]{1,20}$")
_SERIAL = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,59}$")
DEVICE_LENGTHS = {name: column_length(getattr(Device, name)) for name in ("model", "firmware", "station")}
BATCH = 5000
# The largest file an import reads, through the API or the pages.
MAX_CSV_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class RowError:
    line: int
    reason: str


@dataclass
class ImportReport:
    what: str
    dry_run: bool
    rows: int = 0
    imported: int = 0
    skipped: int = 0
    errors: list[RowError] = field(default_factory=list)

    @property
    def good(self) -> int:
        """Rows without a problem: what skipping the bad rows imports (none from an unreadable file)."""
        return max(self.rows - len({e.line for e in self.errors}), 0)


class CsvRejected(OpenbwvError):
    """A file with bad rows, imported with neither a dry run nor skipping: nothing was written."""

    status_code = 422

    def __init__(self, report: ImportReport) -> None:
        first = report.errors[0]
        message = (
            f"{len(report.errors)} bad row{'s' if len(report.errors) != 1 else ''}, nothing imported; "
            f"line {first.line}: {first.reason}"
        )
        super().__init__(
            message,
            detail={
                "rule": "csv_rows_invalid",
                "message": message,
                "errors": [{"line": e.line, "reason": e.reason} for e in report.errors],
            },
        )
        self.report = report


def _read(
    text: str, columns: tuple[str, ...], required: tuple[str, ...]
) -> tuple[list[tuple[int, dict[str, str]]], list[RowError]]:
    """Rows with their line numbers (the header is line 1), or why the file cannot be read into rows."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = [h.strip().lower() for h in next(reader, [])]
    missing = [c for c in required if c not in header]
    if missing:
        return [], [
            RowError(
                1, f"the header must name the columns {', '.join(columns)}; missing {', '.join(missing)}"
            )
        ]
    wanted = [(name, header.index(name)) for name in columns if name in header]
    rows = []
    try:
        for record in reader:
            if not record:
                continue
            values = {name: unescape_cell(record[i].strip()) if i < len(record) else "" for name, i in wanted}
            rows.append((reader.line_num, values))
    except csv.Error as exc:
        # Most often a quote left open, which runs the rest of the file into one cell; nothing past
        # that point can be told apart into rows, so the whole file is refused.
        reason = (
            f"a cell is longer than {csv.field_size_limit():,} characters (is a quote left open?)"
            if "field larger than field limit" in str(exc)
            else f"the file cannot be read as CSV ({exc})"
        )
        return [], [RowError(reader.line_num, reason)]
    return rows, []


def _cell_problem(row: dict[str, str], lengths: dict[str, int]) -> str | None:
    """Why a row's cells cannot be stored: a control character, or more than a column holds."""
    for name, value in row.items():
        if control_character_problem(value):
            return f"the {name} {CONTROL_MESSAGE}"
        if name in lengths and len(value) > lengths[name]:
            return f"the {name} is longer than {lengths[name]} characters"
    return None


def _finish(report: ImportReport, good: int, skip_bad: bool) -> None:
    report.skipped = len({e.line for e in report.errors}) if skip_bad else 0
    if report.errors and not skip_bad and not report.dry_run:
        raise CsvRejected(report)
    report.imported = 0 if report.dry_run or (report.errors and not skip_bad) else good


def import_officers(
    db: Session, actor: Actor, *, text: str, dry_run: bool = False, skip_bad: bool = False
) -> ImportReport:
    """Import officers from CSV columns collar_number, name, rank, unit."""
    report = ImportReport(what="officers", dry_run=dry_run)
    rows, file_errors = _read(text, OFFICER_COLUMNS, OFFICER_COLUMNS)
    report.rows = len(rows)
    report.errors.extend(file_errors)
    ranks = {r.code for r in people.list_ranks(db)}
    units = {u.code for u in people.list_units(db)}
    taken = people.existing_collar_numbers(db, (r.get("collar_number", "") for _, r in rows))
    seen: dict[str, int] = {}
    good: list[dict[str, str]] = []
    for line, row in rows:
        collar = row.get("collar_number", "").upper()
        reason = None
        if problem := _cell_problem(row, {"name": people.OFFICER_NAME_LENGTH}):
            reason = problem
        elif not _COLLAR.match(collar):
            reason = f"collar number {collar!r} must be 1 to 20 letters or digits"
        elif collar in taken:
            reason = f"collar number {collar} is already in use"
        elif collar in seen:
            reason = f"collar number {collar} appears again (first on line {seen[collar]})"
        elif not row.get("name"):
            reason = "the name is missing"
        elif row.get("rank", "").lower() not in ranks:
            reason = f"unknown rank {row.get('rank', '')!r}"
        elif row.get("unit", "").upper() not in units:
            reason = f"no unit has the code {row.get('unit', '').upper()!r}"
        seen.setdefault(collar, line)
        if reason:
            report.errors.append(RowError(line, reason))
        else:
            good.append(row)
    # Skipping skips bad rows; a file that cannot be read into rows is refused whole.
    _finish(report, len(good), skip_bad and not file_errors)
    if report.imported:
        people.bulk_create_officers(db, actor, good)
        _audit_import(db, actor, report)
    return report


def import_devices(
    db: Session, actor: Actor, *, text: str, dry_run: bool = False, skip_bad: bool = False
) -> ImportReport:
    """Import devices from a delivery note: kind, serial, model, and optionally firmware, station, pooled."""
    report = ImportReport(what="devices", dry_run=dry_run)
    rows, file_errors = _read(text, DEVICE_COLUMNS, ("kind", "serial", "model"))
    report.rows = len(rows)
    report.errors.extend(file_errors)
    taser_models = {m.code.lower(): m.code for m in list_taser_models(db)} | {
        m.name.lower(): m.code for m in list_taser_models(db)
    }
    serials = [r.get("serial", "").upper() for _, r in rows]
    taken: set[str] = set()
    for start in range(0, len(serials), BATCH):
        chunk = serials[start : start + BATCH]
        taken.update(db.scalars(select(Device.serial).where(in_values(db, Device.serial, chunk))).all())
    seen: dict[str, int] = {}
    good: list[dict[str, object]] = []
    for line, row in rows:
        serial = row.get("serial", "").upper()
        kind = row.get("kind", "").lower()
        model = row.get("model", "")
        pooled = row.get("pooled", "").lower() in ("yes", "true", "1", "y")
        reason = None
        if problem := _cell_problem(row, DEVICE_LENGTHS):
            reason = problem
        elif kind not in DEVICE_KINDS:
            reason = f"kind {kind!r} must be one of {', '.join(DEVICE_KINDS)}"
        elif not _SERIAL.match(serial):
            reason = f"serial {serial!r} must be 1 to 60 letters, digits, '.', '_', '/' or '-'"
        elif serial in taken:
            reason = f"serial {serial} is already registered"
        elif serial in seen:
            reason = f"serial {serial} appears again (first on line {seen[serial]})"
        elif not model:
            reason = "the model is missing"
        elif kind == "taser" and model.lower() not in taser_models:
            reason = f"unknown Taser model {model!r}"
        elif pooled and (kind != "camera" or not row.get("station")):
            reason = "a pooled device must be a camera with a station"
        seen.setdefault(serial, line)
        if reason:
            report.errors.append(RowError(line, reason))
            continue
        good.append(
            {
                "kind": kind,
                "serial": serial,
                "model": taser_models[model.lower()] if kind == "taser" else model,
                "firmware": row.get("firmware") or None,
                "station": row.get("station") or None,
                "state": "pooled" if pooled else "in_stock",
            }
        )
    # Skipping skips bad rows; a file that cannot be read into rows is refused whole.
    _finish(report, len(good), skip_bad and not file_errors)
    if report.imported:
        _insert_devices(db, actor, good, clock.now())
        _audit_import(db, actor, report)
    return report


def _insert_devices(db: Session, actor: Actor, rows: list[dict[str, object]], now: datetime) -> None:
    device_table = Device.__table__
    assert isinstance(device_table, Table)
    for start in range(0, len(rows), BATCH):
        chunk = [
            {**r, "unit_id": None, "battery_health": None, "storage_health": None, "slots": None,
             "online": None, "current_issue_id": None, "created_at": now}
            for r in rows[start : start + BATCH]
        ]  # fmt: skip
        bulk_insert(db, device_table, chunk)
        # One statement writes the chunk's "received" movements from the rows just inserted.
        received = select(
            Device.id,
            literal(now, UTCDateTime()),
            literal("received"),
            Device.state,
            literal(actor.username),
            literal("imported from a delivery note"),
        ).where(in_values(db, Device.serial, [str(r["serial"]) for r in chunk]))
        db.execute(
            insert(Movement).from_select(
                ["device_id", "occurred_at", "action", "to_state", "actor_username", "note"], received
            )
        )


def _audit_import(db: Session, actor: Actor, report: ImportReport) -> None:
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_IMPORT_COMPLETED,
        target=Target("import", report.what),
        details={"rows": report.rows, "imported": report.imported, "skipped": report.skipped},
    )


def _audit_export(db: Session, actor: Actor, what: str, rows: int) -> None:
    audit.record(
        db,
        actor=actor,
        action=AuditAction.FLEET_LIST_EXPORTED,
        target=Target("export", what),
        details={"rows": rows},
    )


def export_officers(db: Session, actor: Actor) -> str:
    """Every officer as CSV in the import's columns, so an export imports cleanly elsewhere; audited."""
    rows, _ = people.list_officers(db, where=people.OfficerFilter(), limit=10_000_000, offset=0)
    _audit_export(db, actor, "officers", len(rows))
    return to_csv(OFFICER_COLUMNS, [[o.collar_number, o.name, o.rank_code, o.unit.code] for o in rows])


def export_devices(db: Session, actor: Actor, *, where: DeviceFilter | None = None) -> str:
    """Devices as CSV in the import's columns, with their state; audited."""
    rows, _ = list_devices(db, where=where or DeviceFilter(), limit=10_000_000, offset=0)
    _audit_export(db, actor, "devices", len(rows))
    return to_csv(
        (*DEVICE_COLUMNS, "state"),
        [
            [
                d.kind,
                d.serial,
                d.model,
                d.firmware or "",
                d.station or "",
                "yes" if d.state == "pooled" else "",
                d.state,
            ]
            for d in rows
        ],
    )
