"""The Taser handle's event log export, CSV or JSON, read into entries; each bad row named with why.

The README's "Taser device logs" describes the format. Both forms carry the same fields, and both
are read by one row reader, so a CSV and a JSON of the same log give the same entries.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from openbwv.inputs import MAX_INT32, control_character_problem
from openbwv.taser.models import SERIAL_LENGTH

FORMATS = ("csv", "json")
# The vendor's event types, as the export writes them (compared without regard to case or spacing),
# and the entry kind each becomes.
EVENT_TYPES: dict[str, str] = {
    "arm": "armed",
    "safe": "disarmed",
    "trigger": "trigger",
    "arc": "arc",
    "cartridge deployed": "cartridge_deployed",
}
FIELDS = (
    "serial_number",
    "sequence",
    "utc_time",
    "local_time",
    "event_type",
    "bay",
    "duration_seconds",
    "battery_percent",
    "temperature_c",
)
REQUIRED = ("serial_number", "utc_time", "event_type")
MAX_BAY = 10
MAX_DURATION_S = 600
MAX_CELL = 100
_SERIAL = re.compile(rf"^[A-Za-z0-9][A-Za-z0-9._/-]{{0,{SERIAL_LENGTH - 1}}}$")
_NOT_A_NAME = re.compile(r"[^a-z0-9]+")


class LogUnreadable(ValueError):
    """The file as a whole cannot be read as the export: the reason is the message."""


@dataclass(frozen=True)
class ParsedEntry:
    row: int
    taser_serial: str
    occurred_at: datetime
    kind: str
    sequence: int | None
    duration_s: float | None
    bay: int | None
    battery_percent: int | None
    temperature_c: float | None

    @property
    def key(self) -> tuple[str, datetime, str, int | None]:
        """What makes an entry the same event again: its Taser, time, kind and bay."""
        return (self.taser_serial, self.occurred_at, self.kind, self.bay)


@dataclass(frozen=True)
class RowError:
    row: int
    message: str


def field_name(header: str) -> str:
    """A column heading as a field name: ``Duration Seconds`` and ``duration_seconds`` are one."""
    return _NOT_A_NAME.sub("_", header.strip().lower()).strip("_")


def _csv_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text))
    try:
        header = [field_name(h) for h in next(reader, [])]
        missing = [name for name in REQUIRED if name not in header]
        if missing:
            raise LogUnreadable(
                f"the header must name the columns {', '.join(REQUIRED)}; missing {', '.join(missing)}"
            )
        wanted = [(name, header.index(name)) for name in FIELDS if name in header]
        rows = []
        for record in reader:
            if not any(cell.strip() for cell in record):
                continue
            cells = {name: record[i].strip() if i < len(record) else "" for name, i in wanted}
            rows.append((reader.line_num, cells))
    except csv.Error as exc:
        raise LogUnreadable(f"line {reader.line_num} cannot be read as CSV ({exc})") from exc
    return rows


def _json_cell(value: object) -> str | None:
    """A JSON value as the text a CSV cell would hold; None for a value no field takes."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return None
    if isinstance(value, str | int):
        return str(value).strip()
    if isinstance(value, float):
        return repr(value)
    return None


def _json_rows(text: str) -> list[tuple[int, dict[str, str]]]:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as exc:
        raise LogUnreadable(f"the file is not JSON ({exc})") from exc
    if not isinstance(document, dict) or not isinstance(document.get("events"), list):
        raise LogUnreadable('the JSON must be an object with a list "events"')
    default_serial = document.get("serial_number")
    rows = []
    for number, event in enumerate(document["events"], start=1):
        if not isinstance(event, dict):
            rows.append((number, {"": "not an object"}))
            continue
        if default_serial is not None and "serial_number" not in event:
            event = {**event, "serial_number": default_serial}
        cells: dict[str, str] = {}
        for name in FIELDS:
            if name not in event:
                continue
            cell = _json_cell(event[name])
            if cell is None:
                cells[""] = f"the {name} must be text or a number"
                break
            cells[name] = cell
        rows.append((number, cells))
    return rows


def _whole(cells: dict[str, str], name: str, low: int, high: int) -> int | None:
    text = cells.get(name, "")
    if not text:
        return None
    if not re.fullmatch(r"[+-]?\d+", text):
        raise ValueError(f"the {name} must be a whole number, not {text!r}")
    value = int(text)
    if not low <= value <= high:
        raise ValueError(f"the {name} must be from {low:,} to {high:,}, not {text}")
    return value


def _decimal(cells: dict[str, str], name: str, low: float, high: float) -> float | None:
    text = cells.get(name, "")
    if not text:
        return None
    try:
        value = float(text)
    except ValueError:
        raise ValueError(f"the {name} must be a number, not {text!r}") from None
    if not math.isfinite(value) or not low <= value <= high:
        raise ValueError(f"the {name} must be from {low:g} to {high:g}, not {text}")
    return value


def _time(text: str, *, latest: datetime) -> datetime:
    if not text:
        raise ValueError("the utc_time is missing")
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise ValueError(
            f"the utc_time must be ISO 8601 such as 2026-11-26T07:58:12Z, not {text!r}"
        ) from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    if at > latest:
        raise ValueError(f"the utc_time {at.isoformat()} is later than now")
    return at


def _entry(row: int, cells: dict[str, str], *, latest: datetime) -> ParsedEntry:
    """One row as an entry; ValueError saying what is wrong with it."""
    if "" in cells:
        raise ValueError(cells[""])
    for name, value in cells.items():
        if control_character_problem(value):
            raise ValueError(f"the {name} must not contain control characters such as NUL")
        if len(value) > MAX_CELL:
            raise ValueError(f"the {name} is longer than {MAX_CELL} characters")
    serial = cells.get("serial_number", "")
    if not serial:
        raise ValueError("the serial_number is missing")
    if not _SERIAL.match(serial):
        raise ValueError(f"the serial_number {serial!r} is not a device serial")
    event = " ".join(cells.get("event_type", "").lower().split())
    kind = EVENT_TYPES.get(event)
    if kind is None:
        named = ", ".join(t.title() for t in EVENT_TYPES)
        raise ValueError(f"the event_type {cells.get('event_type', '')!r} is not one of {named}")
    at = _time(cells.get("utc_time", ""), latest=latest)
    bay = _whole(cells, "bay", 1, MAX_BAY)
    duration = _decimal(cells, "duration_seconds", 0, MAX_DURATION_S)
    if kind == "cartridge_deployed" and bay is None:
        raise ValueError("a Cartridge Deployed event must name its bay")
    if kind not in ("cartridge_deployed", "trigger") and bay is not None:
        raise ValueError(f"a {cells['event_type']} event has no bay")
    if kind in ("trigger", "arc") and duration is None:
        raise ValueError(f"a {cells['event_type']} event must give its duration_seconds")
    if kind not in ("trigger", "arc") and duration is not None:
        raise ValueError(f"a {cells['event_type']} event has no duration")
    return ParsedEntry(
        row=row,
        taser_serial=serial.upper(),
        occurred_at=at,
        kind=kind,
        sequence=_whole(cells, "sequence", 0, MAX_INT32),
        duration_s=duration,
        bay=bay,
        battery_percent=_whole(cells, "battery_percent", 0, 100),
        temperature_c=_decimal(cells, "temperature_c", -60, 100),
    )


def parse_log(text: str, log_format: str, *, latest: datetime) -> tuple[list[ParsedEntry], list[RowError]]:
    """The entries of a log in ``log_format`` (``csv`` or ``json``) and the rows refused, each with
    its number (CSV: the line, the header being line 1; JSON: the event's place in ``events``, from
    1). A time after ``latest`` is refused. ``LogUnreadable`` when the file is not the export at all."""
    rows = _csv_rows(text) if log_format == "csv" else _json_rows(text)
    if not rows:
        raise LogUnreadable("the file holds no events")
    entries: list[ParsedEntry] = []
    errors: list[RowError] = []
    for row, cells in rows:
        try:
            entries.append(_entry(row, cells, latest=latest))
        except ValueError as exc:
            errors.append(RowError(row, str(exc)))
    return entries, errors
