"""``openbwv axis connection-file``: the file the Axis body worn manager imports."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import __version__, fleet
from openbwv.cli import app
from openbwv.config import Settings
from openbwv.db import transaction

CERTIFICATE = """-----BEGIN CERTIFICATE-----
MIIBszCCAVmgAwIBAgIUe3dJ
-----END CERTIFICATE-----
"""


@pytest.fixture
def runner(settings: Settings, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("OPENBWV_DATABASE_URL", settings.resolved_database_url)
    monkeypatch.setenv("OPENBWV_DATA_DIR", str(settings.data_dir))
    return CliRunner()


class TestConnectionFile:
    def test_registers_the_system_and_its_credential_signs_in(
        self, runner: CliRunner, client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        result = runner.invoke(
            app, ["axis", "connection-file", "--base-url", "https://bwv.example.police.uk/"]
        )
        assert result.exit_code == 0, result.output
        document = json.loads(result.output)
        key = document.pop("BlobAPIKey")
        assert document == {
            "ConnectionFileVersion": "1.0",
            "SiteName": "West Midlands Police",
            "ApplicationName": "openbwv",
            "ApplicationVersion": __version__,
            "ContentDestinationAsNTPServer": False,
            "AuthenticationTokenURI": ["https://bwv.example.police.uk/api/axis/auth/v1.0"],
            "BlobAPIUserName": "AXIS-BWS",
            "ContainerType": "mp4",
            "FullStoreAndReadSupport": False,
            "WantEncryption": False,
        }
        with transaction(factory) as db:
            device = fleet.get_device(db, "AXIS-BWS")
            assert device is not None
            assert device.kind == "dock"
        signed_in = client.get("/api/axis/auth/v1.0", headers={"X-Auth-User": "AXIS-BWS", "X-Auth-Key": key})
        assert signed_in.status_code == 200

    def test_a_new_file_revokes_the_old_credential(self, runner: CliRunner, client: TestClient) -> None:
        args = ["axis", "connection-file", "--base-url", "https://bwv.example", "--serial", "axis-2"]
        first = json.loads(runner.invoke(app, args).output)
        second = json.loads(runner.invoke(app, args).output)
        assert first["BlobAPIUserName"] == second["BlobAPIUserName"] == "AXIS-2"
        for document, status in ((first, 401), (second, 200)):
            headers = {"X-Auth-User": "AXIS-2", "X-Auth-Key": document["BlobAPIKey"]}
            assert client.get("/api/axis/auth/v1.0", headers=headers).status_code == status

    def test_carries_the_certificates_to_trust(self, runner: CliRunner, tmp_path: Path) -> None:
        pem = tmp_path / "site.pem"
        pem.write_text(CERTIFICATE)
        args = ["axis", "connection-file", "--base-url", "https://bwv.example", "--certificate", str(pem)]
        result = runner.invoke(app, args)
        assert result.exit_code == 0, result.output
        assert json.loads(result.output)["HTTPSCertificate"] == ["MIIBszCCAVmgAwIBAgIUe3dJ"]

    @pytest.mark.parametrize(
        "args",
        [
            ["--base-url", "bwv.example"],
            ["--base-url", "https://bwv.example", "--container-type", "avi"],
        ],
    )
    def test_bad_input_issues_nothing(
        self, runner: CliRunner, factory: sessionmaker[Session], args: list[str]
    ) -> None:
        result = runner.invoke(app, ["axis", "connection-file", *args])
        assert result.exit_code != 0
        with transaction(factory) as db:
            assert fleet.get_device(db, "AXIS-BWS") is None
