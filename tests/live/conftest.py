"""Live tests start with the force's default reason codes, and a recording state the test sets;
``camera`` is one camera, issued to an officer and recording."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access, fleet
from openbwv.db import transaction
from openbwv.live import views
from openbwv.policy import SYSTEM
from tests.builders import make_device, make_officer, make_pass

SERIAL = "BWV-LIVE-0001"


class FakeRecordingState:
    """The telemetry's latest state as a test sets it: serial -> recording, absent when unknown."""

    def __init__(self) -> None:
        self.cameras: dict[str, bool] = {}

    def is_recording(self, db: Session, serial: str) -> bool | None:
        assert isinstance(db, Session), "the port reads the caller's session"
        return self.cameras.get(serial)


@pytest.fixture(autouse=True)
def default_reasons(factory: sessionmaker[Session]) -> None:
    with transaction(factory) as db:
        access.seed_default_reasons(db)


@pytest.fixture
def recording() -> Iterator[FakeRecordingState]:
    fake = FakeRecordingState()
    previous = views.provide_recording_state(fake)
    yield fake
    views.provide_recording_state(previous)


@pytest.fixture
def collar(factory: sessionmaker[Session]) -> str:
    """The collar number of the officer who holds the camera ``SERIAL``."""
    with transaction(factory) as db:
        officer = make_officer(db, collar="4521")
        make_pass(db, officer, "bwv_user")
        make_device(db, serial=SERIAL)
        fleet.issue_device(
            db, SYSTEM, device_serial=SERIAL, collar_number=officer.collar_number, kind="personal"
        )
        return officer.collar_number


@pytest.fixture
def camera(collar: str, recording: FakeRecordingState) -> FakeRecordingState:
    """The camera ``SERIAL``, held by an officer and recording."""
    recording.cameras[SERIAL] = True
    return recording
