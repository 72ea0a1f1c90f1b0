"""A real ``openbwv serve`` with a registered dock, and a dock folder of real tagged clips."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from tests.builders import device_headers_for
from tests.footage.helpers import CREATION_TIME, GPS_TRACK, make_video
from tests.server_process import ServerProcess
from tests.uploads.live import start_server

CAMERA = "CAM-DOCK-1"


@pytest.fixture
def served(database_url: str, settings: Settings, tmp_path: Path) -> Iterator[ServerProcess]:
    server = start_server(database_url, settings.data_dir, tmp_path / "server.log")
    yield server
    server.stop()


@pytest.fixture
def credential_file(factory: sessionmaker[Session], tmp_path: Path) -> Path:
    """The dock's credential as an operator saves it from `openbwv docks add`: with a newline."""
    headers = device_headers_for(factory, kind="dock", serial="DOCK-1")
    path = tmp_path / "credential"
    path.write_text(headers["Authorization"].removeprefix("Bearer ") + "\n")
    return path


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    path = tmp_path / "dock"
    path.mkdir()
    return path


def tagged_clip(folder: Path, name: str, *, seed: int = 0, seconds: float = 2.0) -> bytes:
    """A real clip carrying the tags a camera writes: its serial, its creation time, a GPS track."""
    return make_video(
        folder / name,
        seconds=seconds,
        metadata={"camera_serial": CAMERA, "creation_time": CREATION_TIME, "gps_track": GPS_TRACK},
        seed=seed,
    )
