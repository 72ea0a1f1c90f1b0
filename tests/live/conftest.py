"""Live tests start with the force's default reason codes, and a recording state the test sets."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from openbwv import access
from openbwv.db import transaction
from openbwv.live import views


class FakeRecordingState:
    """The telemetry's latest state as a test sets it: serial -> recording, absent when unknown."""

    def __init__(self) -> None:
        self.cameras: dict[str, bool] = {}

    def is_recording(self, db: Session, serial: str) -> bool | None:
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
