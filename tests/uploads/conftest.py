"""An app with footage ingest stood in by a recorder, and a dock signed in with its credential."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from tests.builders import device_headers_for
from tests.s3 import BUCKET
from tests.server_process import ServerProcess
from tests.uploads.helpers import IngestRecorder
from tests.uploads.live import start_server


@pytest.fixture
def upload_settings(settings: Settings) -> Settings:
    return settings.model_copy(update={"upload_max_gib": 1})


@pytest.fixture
def ingest() -> IngestRecorder:
    return IngestRecorder()


@pytest.fixture
def tus(
    upload_settings: Settings, factory: sessionmaker[Session], ingest: IngestRecorder
) -> Iterator[TestClient]:
    """The app, with the stand-in for footage ingest as its only job."""
    app = create_app(upload_settings, factory, jobs=ingest.registry())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture
def ingesting(
    upload_settings: Settings, factory: sessionmaker[Session], ingest: IngestRecorder
) -> Iterator[TestClient]:
    """The app as ``tus``, running its jobs inside on PostgreSQL too (slower to stop), so that the
    stand-in sees what is queued."""
    settings = upload_settings.model_copy(update={"run_worker_in_process": True})
    app = create_app(settings, factory, jobs=ingest.registry())
    with TestClient(app, base_url="https://testserver") as client:
        yield client


@pytest.fixture(params=["local", "s3"])
def stored_on(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """``settings`` with the store on each backend in turn: the data directory, then a prefix of
    its own on moto's S3 server."""
    if request.param == "local":
        return settings
    request.getfixturevalue("s3_endpoint")
    return settings.model_copy(update={"storage_url": f"s3://{BUCKET}/{uuid.uuid4().hex}"})


@pytest.fixture
def dock(factory: sessionmaker[Session]) -> dict[str, str]:
    """Bearer headers of a dock's credential (upload and telemetry)."""
    return device_headers_for(factory, kind="dock", serial="DOCK-1")


@pytest.fixture
def served(database_url: str, settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    """``openbwv serve`` in a process of its own, on the test's database and data directory."""
    server = start_server(database_url, settings.data_dir, tmp_path / "server.log")
    yield server
    server.stop()
