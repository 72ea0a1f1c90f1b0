"""Taser handle event logs in the vendor's CSV and JSON forms, timed from the test's clock."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

HEADINGS = (
    "Serial Number",
    "Sequence",
    "UTC Time",
    "Local Time",
    "Event Type",
    "Bay",
    "Duration Seconds",
    "Battery Percent",
    "Temperature C",
)


def event(serial: str, at: datetime, event_type: str, **fields: Any) -> dict[str, Any]:
    """One event as the JSON form's object: ``fields`` by their field names (``bay``, ``duration_seconds``)."""
    return {
        "serial_number": serial,
        "utc_time": at.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "event_type": event_type,
        **fields,
    }


def trigger(serial: str, at: datetime, seconds: float = 5, **fields: Any) -> dict[str, Any]:
    return event(serial, at, "Trigger", duration_seconds=seconds, **fields)


def fired(serial: str, at: datetime, bay: int = 1) -> list[dict[str, Any]]:
    """A trigger pull that deployed the cartridge in ``bay``, as the handle logs it."""
    return [trigger(serial, at, bay=bay), event(serial, at, "Cartridge Deployed", bay=bay)]


def as_json(events: list[dict[str, Any]]) -> str:
    return json.dumps({"events": events})


def as_csv(events: list[dict[str, Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(HEADINGS)
    names = [h.lower().replace(" ", "_") for h in HEADINGS]
    for item in events:
        writer.writerow(["" if item.get(name) is None else item[name] for name in names])
    return out.getvalue()
