"""Importing Taser handle logs on both databases: CSV and JSON alike, stored once, each bad row named,
dry runs, and the whole-file refusals."""

from __future__ import annotations

import json
from datetime import timedelta, timezone
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from openbwv import clock
from openbwv.policy import Actor, Role
from openbwv.taser.device_logs import DeviceLogRefused, EntryFilter, import_device_log, list_entries
from openbwv.taser.models import DeviceLogEntry, DeviceLogImport
from tests.builders import make_device
from tests.taser.builders import make_taser_holder
from tests.taser.device_log_builders import as_csv, as_json, event, fired, trigger

MANAGER = Actor(username="stores", roles=frozenset({Role.EQUIPMENT_MANAGER}), user_id=None)


def _import(db: Session, text: str, log_format: str = "csv", **options: Any) -> Any:
    return import_device_log(db, MANAGER, content=text, log_format=log_format, **options)


def _entries(db: Session) -> list[tuple[object, ...]]:
    rows, _ = list_entries(db, where=EntryFilter(), limit=500, offset=0)
    return [
        (
            e.taser_serial,
            e.occurred_at,
            e.kind,
            e.sequence,
            e.duration_s,
            e.bay,
            e.battery_percent,
            e.temperature_c,
        )
        for e in rows
    ]


def _shift(serial: str) -> list[dict[str, Any]]:
    """A shift's log: armed, a warning arc, a fired cartridge, made safe."""
    now = clock.now()
    return [
        event(serial, now - timedelta(hours=3), "Arm", sequence=101, battery_percent=88, temperature_c=14.5),
        event(serial, now - timedelta(hours=2, minutes=5), "Arc", sequence=102, duration_seconds=1.5),
        {**trigger(serial, now - timedelta(hours=2), bay=1), "sequence": 103},
        {**event(serial, now - timedelta(hours=2), "Cartridge Deployed", bay=1), "sequence": 104},
        event(serial, now - timedelta(hours=1), "Safe", sequence=105, battery_percent=80),
    ]


class TestFormats:
    def test_csv_and_json_of_one_log_give_the_same_entries(self, db: Session) -> None:
        make_taser_holder(db, collar="7101")
        log = _shift("TS-7101")
        from_csv = _import(db, as_csv(log))
        csv_entries = _entries(db)
        db.rollback()
        make_taser_holder(db, collar="7101")
        from_json = _import(db, as_json(log), "json")
        assert from_csv.rows_stored == from_json.rows_stored == 5
        assert _entries(db) == csv_entries
        kinds = [entry[2] for entry in csv_entries]
        assert kinds == ["armed", "arc", "trigger", "cartridge_deployed", "disarmed"]
        armed = next(e for e in csv_entries if e[2] == "armed")
        assert armed[3:] == (101, None, None, 88, 14.5)

    def test_headings_are_matched_without_regard_to_case_or_punctuation(self, db: Session) -> None:
        make_taser_holder(db, collar="7102")
        at = clock.now() - timedelta(hours=2)
        text = (
            "serial_number,UTC-TIME,event type,Duration (Seconds),firmware\n"
            f"ts-7102,{at.strftime('%Y-%m-%d %H:%M:%S')},ARC,2,1.2.3\n"
        )
        report = _import(db, text)
        assert report.rows_stored == 1
        assert _entries(db)[0][:3] == ("TS-7102", at.replace(microsecond=0), "arc")

    def test_a_time_with_an_offset_is_stored_in_utc(self, db: Session) -> None:
        make_taser_holder(db, collar="7103")
        at = (clock.now() - timedelta(hours=2)).replace(microsecond=0)
        local = at.astimezone(timezone(timedelta(hours=1)))
        _import(db, as_json([event("TS-7103", at, "Arm") | {"utc_time": local.isoformat()}]), "json")
        assert _entries(db)[0][1] == at

    def test_a_json_log_may_name_its_taser_once(self, db: Session) -> None:
        make_taser_holder(db, collar="7104")
        at = clock.now() - timedelta(hours=2)
        body = json.dumps(
            {"serial_number": "TS-7104", "events": [{"utc_time": at.isoformat(), "event_type": "Arm"}]}
        )
        assert _import(db, body, "json").rows_stored == 1


class TestStoredOnce:
    def test_importing_a_file_again_stores_nothing_twice(self, db: Session) -> None:
        make_taser_holder(db, collar="7111")
        text = as_csv(_shift("TS-7111"))
        first = _import(db, text, file_name="handle.csv")
        again = _import(db, text, file_name="handle.csv")
        assert (first.rows_read, first.rows_stored, first.rows_duplicate) == (5, 5, 0)
        assert (again.rows_read, again.rows_stored, again.rows_duplicate) == (5, 0, 5)
        assert db.scalar(select(func.count()).select_from(DeviceLogEntry)) == 5
        second = db.get(DeviceLogImport, again.import_id)
        assert second is not None
        assert (second.file_name, second.format, second.rows_stored, second.rows_duplicate) == (
            "handle.csv",
            "csv",
            0,
            5,
        )
        assert second.imported_by == "stores"

    def test_the_same_event_twice_in_one_file_is_stored_once(self, db: Session) -> None:
        make_taser_holder(db, collar="7112")
        arm = event("TS-7112", clock.now() - timedelta(hours=1), "Arm")
        report = _import(db, as_csv([arm, arm]))
        assert (report.rows_stored, report.rows_duplicate) == (1, 1)

    def test_two_bays_deployed_at_one_time_are_two_entries(self, db: Session) -> None:
        make_taser_holder(db, collar="7113")
        at = clock.now() - timedelta(hours=1)
        log = [*fired("TS-7113", at, bay=1), event("TS-7113", at, "Cartridge Deployed", bay=2)]
        assert _import(db, as_json(log), "json").rows_stored == 3
        assert _import(db, as_csv(log)).rows_stored == 0


def _bad_row(**fields: Any) -> dict[str, Any]:
    return {"serial_number": "TS-7121", "utc_time": "", "event_type": "Arm", **fields}


BAD_ROWS: list[tuple[str, dict[str, Any], str]] = [
    ("no_serial", {"serial_number": ""}, "the serial_number is missing"),
    ("bad_serial", {"serial_number": "TS 7121!"}, "is not a device serial"),
    ("unknown_event", {"event_type": "Tased"}, "the event_type 'Tased' is not one of"),
    ("no_time", {"utc_time": None}, "the utc_time is missing"),
    ("bad_time", {"utc_time": "26/11/2026 08:00"}, "must be ISO 8601"),
    ("future_time", {"utc_time": "FUTURE"}, "is later than now"),
    ("cartridge_without_bay", {"event_type": "Cartridge Deployed"}, "must name its bay"),
    ("bay_on_arm", {"bay": 1}, "a Arm event has no bay"),
    ("bay_out_of_range", {"event_type": "Cartridge Deployed", "bay": 11}, "the bay must be from 1 to 10"),
    ("trigger_without_duration", {"event_type": "Trigger"}, "must give its duration_seconds"),
    ("duration_on_arm", {"duration_seconds": 5}, "a Arm event has no duration"),
    ("negative_duration", {"event_type": "Arc", "duration_seconds": -1}, "duration_seconds must be from 0"),
    ("duration_not_a_number", {"event_type": "Arc", "duration_seconds": "five"}, "must be a number"),
    ("sequence_past_64_bits", {"sequence": 2**64 + 1}, "the sequence must be from 0 to"),
    ("sequence_not_whole", {"sequence": "1.5"}, "the sequence must be a whole number"),
    ("battery_over_100", {"battery_percent": 101}, "the battery_percent must be from 0 to 100"),
    ("infinite_temperature", {"temperature_c": "inf"}, "the temperature_c must be from -60 to 100"),
    ("nul_in_a_cell", {"event_type": "Arm\x00"}, "must not contain control characters"),
    ("long_cell", {"event_type": "A" * 101}, "longer than 100 characters"),
]


def _filled(row: dict[str, Any]) -> dict[str, Any]:
    now = clock.now()
    if row["utc_time"] == "":
        row["utc_time"] = (now - timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    elif row["utc_time"] == "FUTURE":
        row["utc_time"] = (now + timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    return row


class TestBadRows:
    @pytest.mark.parametrize("log_format", ["csv", "json"])
    @pytest.mark.parametrize(
        ("fields", "message"), [(f, m) for _, f, m in BAD_ROWS], ids=[n for n, _, _ in BAD_ROWS]
    )
    def test_a_bad_row_is_named_and_nothing_is_stored(
        self, db: Session, log_format: str, fields: dict[str, Any], message: str
    ) -> None:
        make_taser_holder(db, collar="7121")
        good = event("TS-7121", clock.now() - timedelta(hours=2), "Arm")
        rows = [good, _filled(_bad_row(**fields))]
        text = as_csv(rows) if log_format == "csv" else as_json(rows)
        with pytest.raises(DeviceLogRefused) as refused:
            _import(db, text, log_format)
        assert refused.value.rule == "device_log_rows_invalid"
        errors = refused.value.detail["errors"]
        assert len(errors) == 1
        assert errors[0]["row"] == (3 if log_format == "csv" else 2)
        assert message in errors[0]["message"]
        assert db.scalar(select(func.count()).select_from(DeviceLogEntry)) == 0

    def test_a_json_value_no_field_takes_is_refused(self, db: Session) -> None:
        make_taser_holder(db, collar="7122")
        row = _filled(_bad_row(serial_number="TS-7122", battery_percent=True))
        with pytest.raises(DeviceLogRefused) as refused:
            _import(db, as_json([row, "Arm"]), "json")  # type: ignore[list-item]
        errors = refused.value.detail["errors"]
        assert [e["row"] for e in errors] == [1, 2]
        assert "the battery_percent must be text or a number" in errors[0]["message"]
        assert errors[1]["message"] == "not an object"

    def test_skipping_bad_rows_stores_the_good_ones_and_counts_the_rest(self, db: Session) -> None:
        make_taser_holder(db, collar="7123")
        good = event("TS-7123", clock.now() - timedelta(hours=2), "Arm")
        bad = _filled(_bad_row(serial_number="TS-7123", event_type="Tased"))
        report = _import(db, as_csv([good, bad]), skip_bad=True)
        assert (report.rows_read, report.rows_stored, report.rows_refused) == (2, 1, 1)
        stored = db.get(DeviceLogImport, report.import_id)
        assert stored is not None and stored.rows_refused == 1


class TestDryRun:
    def test_a_dry_run_reports_each_row_and_stores_nothing(self, db: Session) -> None:
        make_taser_holder(db, collar="7131")
        log = _shift("TS-7131")
        log.append(_filled(_bad_row(serial_number="TS-7131", event_type="Cartridge Deployed")))
        report = _import(db, as_csv(log), dry_run=True)
        assert report.dry_run and report.import_id is None
        assert (report.rows_read, report.rows_new, report.rows_stored, report.rows_refused) == (6, 5, 0, 1)
        assert [(e.row, e.message) for e in report.errors] == [
            (7, "a Cartridge Deployed event must name its bay")
        ]
        assert db.scalar(select(func.count()).select_from(DeviceLogEntry)) == 0
        assert db.scalar(select(func.count()).select_from(DeviceLogImport)) == 0

    def test_a_dry_run_counts_what_is_already_stored(self, db: Session) -> None:
        make_taser_holder(db, collar="7132")
        text = as_csv(_shift("TS-7132"))
        _import(db, text)
        report = _import(db, text, dry_run=True)
        assert (report.rows_new, report.rows_duplicate) == (0, 5)


class TestWholeFile:
    def test_a_log_of_a_serial_not_in_the_fleet_is_refused_by_name(self, db: Session) -> None:
        make_taser_holder(db, collar="7141")
        log = [*_shift("TS-7141"), event("X29999999", clock.now() - timedelta(hours=1), "Arm")]
        with pytest.raises(DeviceLogRefused) as refused:
            _import(db, as_csv(log))
        assert refused.value.rule == "taser_not_in_fleet"
        assert "X29999999" in refused.value.message and "TS-7141" not in refused.value.message
        assert db.scalar(select(func.count()).select_from(DeviceLogEntry)) == 0

    def test_a_camera_is_not_a_taser(self, db: Session) -> None:
        make_device(db, kind="camera", serial="CAM-7142")
        with pytest.raises(DeviceLogRefused) as refused:
            _import(db, as_csv([event("CAM-7142", clock.now() - timedelta(hours=1), "Arm")]))
        assert refused.value.rule == "taser_not_in_fleet" and "CAM-7142" in refused.value.message

    @pytest.mark.parametrize(
        ("text", "log_format", "message"),
        [
            ("Serial Number,Event Type\nTS-1,Arm\n", "csv", "missing utc_time"),
            ("Serial Number,UTC Time,Event Type\n", "csv", "holds no events"),
            ("", "csv", "missing serial_number"),
            ('{"events": [', "json", "is not JSON"),
            ('[{"event_type": "Arm"}]', "json", 'an object with a list "events"'),
            ('{"events": [{"sequence": 1' + "0" * 5000 + "}]}", "json", "is not JSON"),
            ('{"events": []}', "json", "holds no events"),
            ("[" * 100_000 + "]" * 100_000, "json", "is not JSON"),
        ],
        ids=[
            "no_time_column",
            "header_only",
            "empty",
            "broken_json",
            "json_list",
            "huge_number",
            "no_events",
            "deep",
        ],
    )
    def test_a_file_that_is_not_the_export_is_refused(
        self, db: Session, text: str, log_format: str, message: str
    ) -> None:
        with pytest.raises(DeviceLogRefused) as refused:
            _import(db, text, log_format)
        assert refused.value.rule == "device_log_unreadable"
        assert message in refused.value.message
