from __future__ import annotations

import sys
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import people
from openbwv.cli import app, main
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import issues, training
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_ineligible_taser_holder, make_officer, make_pass, make_unit


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    return CliRunner()


class TestCheckLapses:
    def test_prints_the_officer_whose_taser_is_still_out(
        self, runner: CliRunner, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            officer = make_officer(db, collar="9001", name="Rhys Roberts")
            make_pass(db, officer, "taser_initial", date(2025, 11, 1))
            training.add_volunteer(db, SYSTEM, collar_number="9001", volunteered_on=date(2025, 11, 1))
            make_device(db, kind="taser", serial="TQ-1")
            issues.issue_device(
                db, SYSTEM, device_serial="TQ-1", collar_number="9001", kind="personal",
                now=datetime(2026, 10, 1, tzinfo=UTC),
            )  # fmt: skip
        result = runner.invoke(app, ["training", "check-lapses", "--date", "2026-11-26"])
        assert result.exit_code == 0, result.output
        assert "9001     Rhys Roberts" in result.output
        assert "lapsed 2026-11-01  Taser TQ-1" in result.output

    def test_prints_the_ineligible_sergeant_whose_taser_is_still_out(
        self, runner: CliRunner, factory: sessionmaker[Session]
    ) -> None:
        with transaction(factory) as db:
            make_ineligible_taser_holder(db, collar="9002", name="Dee Evans", serial="TQ-2")
        result = runner.invoke(app, ["training", "check-lapses", "--date", "2026-11-26"])
        assert result.exit_code == 0, result.output
        assert "Not eligible under the policy, with a Taser still issued (1):" in result.output
        assert "9002     Dee Evans" in result.output
        assert (
            "not eligible from 2026-11-01 (Sergeants not funded for the refresher)  Taser TQ-2"
            in result.output
        )
        assert "2 notification(s) added." in result.output

    def test_a_bad_date_is_refused(self, runner: CliRunner) -> None:
        result = runner.invoke(app, ["training", "check-lapses", "--date", "26/11/2026"])
        assert result.exit_code == 2


class TestImportCommand:
    def test_bad_row_imports_nothing_and_exits_1(
        self, runner: CliRunner, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        path = tmp_path / "hr.csv"
        path.write_text("collar_number,name,rank,unit\n9100,A B,constable,RESP\n9101,C D,constable,NOPE\n")
        result = runner.invoke(app, ["import", "officers", str(path)])
        assert result.exit_code == 1
        assert "line 3: no unit has the code 'NOPE'" in result.output
        with factory() as db:
            assert people.get_officer(db, "9100") is None

    def test_skip_bad_imports_the_rest(
        self, runner: CliRunner, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        with transaction(factory) as db:
            make_unit(db, code="RESP")
        path = tmp_path / "hr.csv"
        path.write_text("collar_number,name,rank,unit\n9100,A B,constable,RESP\n9101,C D,constable,NOPE\n")
        result = runner.invoke(app, ["import", "officers", str(path), "--skip-bad"])
        assert result.exit_code == 0, result.output
        with factory() as db:
            assert people.get_officer(db, "9100") is not None

    def test_a_cell_past_the_csv_field_limit_exits_1_with_a_sentence(
        self, runner: CliRunner, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        path = tmp_path / "note.csv"
        path.write_text('kind,serial,model\ncamera,AB-1,"Axon' + "x" * 200_000 + "\n")
        result = runner.invoke(app, ["import", "devices", str(path), "--skip-bad"])
        assert result.exit_code == 1
        assert "line 2: a cell is longer than 131,072 characters (is a quote left open?)" in result.output
        assert "Nothing was imported" in result.output

    def test_a_file_that_is_not_utf8_exits_1_with_a_sentence(self, runner: CliRunner, tmp_path: Path) -> None:
        path = tmp_path / "note.csv"
        path.write_bytes(b"kind,serial,model\ncamera,AB-1,Axon \xff\n")
        result = runner.invoke(app, ["import", "devices", str(path)])
        assert result.exit_code == 1
        assert "The file must be UTF-8 text; nothing was imported." in result.output


def _run_main(monkeypatch: pytest.MonkeyPatch, *args: str) -> int:
    """Run the installed entry point, which turns a refusal into one sentence and exit code 1."""
    monkeypatch.setattr(sys, "argv", ["openbwv", *args])
    try:
        main()
    except SystemExit as exit_:
        return int(exit_.code or 0)
    return 0


class TestDeviceCredentialCommands:
    def test_prints_the_credential_last_and_it_signs_the_device_in(
        self, runner: CliRunner, factory: sessionmaker[Session], client: TestClient
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-C1")
        result = runner.invoke(app, ["devices", "credential", "cam-c1"])
        assert result.exit_code == 0, result.output
        assert "Issued camera CAM-C1 a credential that may live_ingest, telemetry, upload." in result.output
        credential = result.output.strip().splitlines()[-1].split()[-1]
        assert credential.startswith("obwvd_")
        headers = {"Authorization": f"Bearer {credential}"}
        telemetry = {"battery_health": 77}
        assert client.post("/api/v1/device/telemetry", json=telemetry, headers=headers).status_code == 200
        revoked = runner.invoke(app, ["devices", "revoke", "CAM-C1"])
        assert revoked.exit_code == 0, revoked.output
        assert revoked.output.strip() == "Revoked the credential of CAM-C1."
        assert client.post("/api/v1/device/telemetry", json=telemetry, headers=headers).status_code == 401

    def test_issuing_again_replaces_the_credential(
        self, runner: CliRunner, factory: sessionmaker[Session], client: TestClient
    ) -> None:
        with transaction(factory) as db:
            make_device(db, kind="dock", serial="DOCK-C1")
        first = runner.invoke(app, ["devices", "credential", "DOCK-C1"]).output.split()[-1]
        second = runner.invoke(app, ["devices", "credential", "DOCK-C1"]).output.split()[-1]
        assert first != second
        online = {"online": False}
        for credential, status in ((first, 401), (second, 200)):
            headers = {"Authorization": f"Bearer {credential}"}
            assert client.post("/api/v1/device/telemetry", json=online, headers=headers).status_code == status

    @pytest.mark.parametrize(
        ("args", "sentence"),
        [
            (("credential", "NOPE-1"), "Error: No such device."),
            (("revoke", "NOPE-1"), "Error: No such device."),
            (("revoke", "CAM-C9"), "Error: CAM-C9 has no credential to revoke."),
            (
                ("credential", "TAS-C9"),
                "Error: TAS-C9 is a taser; only cameras and docks sign in with a credential.",
            ),
        ],
    )
    def test_a_refusal_exits_1_with_one_sentence(
        self,
        runner: CliRunner,
        factory: sessionmaker[Session],
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        args: tuple[str, str],
        sentence: str,
    ) -> None:
        with transaction(factory) as db:
            make_device(db, serial="CAM-C9")
            make_device(db, kind="taser", serial="TAS-C9")
        assert _run_main(monkeypatch, "devices", *args) == 1
        captured = capsys.readouterr()
        assert captured.err.strip() == sentence
        assert captured.out == ""
