"""``openbwv docks add``: a dock registered at its station, with a credential printed once."""

from __future__ import annotations

import sys

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import fleet
from openbwv.cli import app, main
from openbwv.config import Settings
from tests.uploads.helpers import creation_headers

DATA_FOR_CLI = b"a dock's first file"


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    return CliRunner()


class TestAddDock:
    def test_registers_the_dock_at_its_station_and_its_credential_uploads(
        self, runner: CliRunner, factory: sessionmaker[Session], tus: TestClient
    ) -> None:
        result = runner.invoke(app, ["docks", "add", "dock-7", "--station", "Lloyd House"])
        assert result.exit_code == 0, result.output
        lines = result.output.strip().splitlines()
        assert lines[0] == "Registered dock DOCK-7 at Lloyd House; its credential may telemetry, upload."
        credential = lines[-1].split()[-1]
        with factory() as db:
            dock = fleet.get_device(db, "DOCK-7")
            assert dock is not None
            assert (dock.kind, dock.station, dock.state) == ("dock", "Lloyd House", "in_stock")
        auth = {"Authorization": f"Bearer {credential}"}
        answer = tus.post("/api/v1/uploads", headers=creation_headers(auth, DATA_FOR_CLI))
        assert answer.status_code == 201

    def test_refuses_a_serial_already_registered_and_changes_nothing(
        self,
        runner: CliRunner,
        monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str],
        settings: Settings,
    ) -> None:
        assert runner.invoke(app, ["docks", "add", "DOCK-8", "--station", "Digbeth"]).exit_code == 0
        monkeypatch.setattr(sys, "argv", ["openbwv", "docks", "add", "dock-8", "--station", "Aston"])
        with pytest.raises(SystemExit) as exit_:
            main()
        assert exit_.value.code == 1
        captured = capsys.readouterr()
        assert captured.err.strip() == (
            "Error: A device with serial DOCK-8 is already registered. Nothing was changed; "
            "`openbwv devices credential DOCK-8` issues it a new credential."
        )
        assert captured.out == ""

    def test_needs_a_station(self, runner: CliRunner) -> None:
        result = runner.invoke(app, ["docks", "add", "DOCK-9"])
        assert result.exit_code == 2
        assert "--station" in result.output
