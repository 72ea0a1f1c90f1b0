from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy.orm import Session

from openbwv import people
from openbwv.fleet import devices, imports
from openbwv.fleet.imports import CsvRejected
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_unit

OFFICERS = """collar_number,name,rank,unit
8001,Amira Ahmed,constable,RESP
8002,Ben Baker,sargeant,RESP
8003,Chloe Clarke,sergeant,resp
"""


class TestImportOfficers:
    def test_one_bad_row_imports_nothing_and_names_the_line(self, db: Session) -> None:
        make_unit(db, code="RESP")
        with pytest.raises(CsvRejected) as rejected:
            imports.import_officers(db, SYSTEM, text=OFFICERS)
        assert rejected.value.detail["errors"] == [{"line": 3, "reason": "unknown rank 'sargeant'"}]
        assert "line 3" in rejected.value.message
        assert people.get_officer(db, "8001") is None

    def test_dry_run_reports_and_writes_nothing(self, db: Session) -> None:
        make_unit(db, code="RESP")
        report = imports.import_officers(db, SYSTEM, text=OFFICERS, dry_run=True)
        assert (report.rows, report.imported, [e.line for e in report.errors]) == (3, 0, [3])
        assert people.get_officer(db, "8001") is None

    def test_skipping_bad_rows_imports_the_good_ones(self, db: Session) -> None:
        make_unit(db, code="RESP")
        report = imports.import_officers(db, SYSTEM, text=OFFICERS, skip_bad=True)
        assert (report.imported, report.skipped) == (2, 1)
        officer = people.get_officer(db, "8003")
        assert officer is not None and officer.unit.code == "RESP"

    def test_duplicate_and_taken_collar_numbers_are_named(self, db: Session) -> None:
        make_unit(db, code="RESP")
        imports.import_officers(db, SYSTEM, text="collar_number,name,rank,unit\n8100,A B,constable,RESP\n")
        text = "collar_number,name,rank,unit\n8100,C D,constable,RESP\n8101,E F,constable,RESP\n8101,G H,constable,RESP\n"
        report = imports.import_officers(db, SYSTEM, text=text, dry_run=True)
        assert [(e.line, e.reason) for e in report.errors] == [
            (2, "collar number 8100 is already in use"),
            (4, "collar number 8101 appears again (first on line 3)"),
        ]

    def test_a_missing_column_is_reported_on_line_1(self, db: Session) -> None:
        report = imports.import_officers(db, SYSTEM, text="collar,name\n1,A\n", dry_run=True)
        assert report.errors[0].line == 1
        assert "missing collar_number, rank, unit" in report.errors[0].reason


class TestImportDevices:
    def test_delivery_note_imports_with_a_received_movement_each(self, db: Session) -> None:
        text = "kind,serial,model,firmware,station,pooled\ncamera,ab-1,Axon Body 3,1.2,,\ncamera,AB-2,Axon Body 3,,Coventry,yes\ntaser,T-1,x2,,,\n"
        report = imports.import_devices(db, SYSTEM, text=text)
        assert report.imported == 3
        pooled = devices.get_device(db, "AB-2")
        taser = devices.get_device(db, "t-1")
        assert pooled is not None and pooled.state == "pooled"
        assert taser is not None and taser.model == "X2"
        assert [m.action for m in devices.device_history(db, pooled)] == ["received"]

    def test_a_serial_already_registered_refuses_the_file(self, db: Session) -> None:
        make_device(db, serial="AB-9")
        with pytest.raises(CsvRejected) as rejected:
            imports.import_devices(db, SYSTEM, text="kind,serial,model\ncamera,AB-8,Axon\ncamera,ab-9,Axon\n")
        assert rejected.value.detail["errors"] == [{"line": 3, "reason": "serial AB-9 is already registered"}]
        assert devices.get_device(db, "AB-8") is None


class TestExport:
    def test_exported_officers_import_again_elsewhere(self, db: Session) -> None:
        make_unit(db, code="RESP")
        imports.import_officers(db, SYSTEM, text=OFFICERS, skip_bad=True)
        exported = imports.export_officers(db, SYSTEM)
        assert exported.splitlines()[0] == "collar_number,name,rank,unit"
        assert "8001,Amira Ahmed,constable,RESP" in exported.splitlines()

    def test_cells_a_spreadsheet_would_run_are_exported_as_text_and_import_back(self, db: Session) -> None:
        make_unit(db, code="RESP")
        names = ['=HYPERLINK("http://x","y")', "+1", "-2", "@SUM(A1)"]
        for n, name in enumerate(names):
            people.create_officer(
                db, SYSTEM, collar_number=f"95{n}", name=name, rank="constable", unit="RESP"
            )
        make_device(db, serial="F-1", model="=cmd|'/c calc'!A0")
        stored = {f"95{n}": people.get_officer(db, f"95{n}").name for n in range(len(names))}  # type: ignore[union-attr]
        rows = list(csv.reader(io.StringIO(imports.export_officers(db, SYSTEM))))[1:]
        assert {row[0]: row[1] for row in rows} == {collar: "'" + name for collar, name in stored.items()}
        device_rows = list(csv.reader(io.StringIO(imports.export_devices(db, SYSTEM))))
        assert device_rows[1][:3] == ["camera", "F-1", "'=cmd|'/c calc'!A0"]

        out = io.StringIO()
        csv.writer(out).writerows(
            [["collar_number", "name", "rank", "unit"]] + [["7" + r[0], *r[1:]] for r in rows]
        )
        imports.import_officers(db, SYSTEM, text=out.getvalue())
        assert {c: people.get_officer(db, "7" + c).name for c in stored} == stored  # type: ignore[union-attr]


class TestHostileCells:
    @pytest.mark.parametrize(
        ("column", "value", "reason"),
        [
            ("firmware", "9" * 41, "the firmware is longer than 40 characters"),
            ("station", "S" * 121, "the station is longer than 120 characters"),
            ("model", "M" * 81, "the model is longer than 80 characters"),
            ("station", "Coven\x00try", "the station must not contain control characters such as NUL"),
        ],
    )
    def test_a_cell_the_database_cannot_hold_is_a_row_error(
        self, db: Session, column: str, value: str, reason: str
    ) -> None:
        row = {"kind": "camera", "serial": "AB-1", "model": "Axon Body 3", "firmware": "", "station": ""}
        row[column] = value
        text = (
            "kind,serial,model,firmware,station\ncamera,AB-0,Axon Body 3,,\n" + ",".join(row.values()) + "\n"
        )
        with pytest.raises(CsvRejected) as rejected:
            imports.import_devices(db, SYSTEM, text=text)
        assert rejected.value.detail["errors"] == [{"line": 3, "reason": reason}]
        assert devices.get_device(db, "AB-0") is None

    def test_an_officer_name_with_a_nul_is_a_row_error(self, db: Session) -> None:
        make_unit(db, code="RESP")
        text = "collar_number,name,rank,unit\n8001,Amira\x00Ahmed,constable,RESP\n"
        report = imports.import_officers(db, SYSTEM, text=text, dry_run=True)
        assert [(e.line, e.reason) for e in report.errors] == [
            (2, "the name must not contain control characters such as NUL")
        ]

    def test_a_cell_past_the_csv_field_limit_refuses_the_file(self, db: Session) -> None:
        text = 'kind,serial,model\ncamera,AB-1,Axon Body 3\ncamera,AB-2,"Axon' + "x" * 200_000 + "\n"
        with pytest.raises(CsvRejected) as rejected:
            imports.import_devices(db, SYSTEM, text=text, skip_bad=True)
        assert rejected.value.detail["errors"] == [
            {"line": 3, "reason": "a cell is longer than 131,072 characters (is a quote left open?)"}
        ]
        assert devices.get_device(db, "AB-1") is None
