"""An app whose worker runs a stand-in for footage ingest, and a signed-in Axis system."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.fleet import issue_credential
from openbwv.jobs import JobRegistry
from openbwv.policy import SYSTEM
from tests.axis.swift import AxisSystem
from tests.builders import make_device

SYSTEM_SERIAL = "AXIS-BWS-1"


class Ingested:
    """What the stand-in ``footage.ingest`` task was handed, in the order it ran."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def add(self, factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        with self._lock:
            self.payloads.append(payload)

    def wait_for(self, count: int, timeout: float = 15.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and len(self.payloads) < count:
            time.sleep(0.05)
        return sorted(self.payloads, key=lambda p: p["upload_id"])


@pytest.fixture
def ingested() -> Ingested:
    return Ingested()


@pytest.fixture
def axis_settings(settings: Settings) -> Settings:
    # The worker runs beside the app on PostgreSQL too, so the stand-in sees each queued job.
    return settings.model_copy(update={"run_worker_in_process": True})


@pytest.fixture
def axis_client(
    axis_settings: Settings, factory: sessionmaker[Session], ingested: Ingested
) -> Iterator[TestClient]:
    jobs = JobRegistry()
    jobs.task("footage.ingest")(ingested.add)
    with TestClient(create_app(axis_settings, factory, jobs=jobs), base_url="https://testserver") as client:
        yield client


def register_system(factory: sessionmaker[Session], serial: str = SYSTEM_SERIAL) -> str:
    """An Axis system in the fleet (as a dock) with a device credential; returns the credential."""
    with transaction(factory) as db:
        make_device(db, kind="dock", serial=serial, model="Axis body worn system")
        _, raw = issue_credential(db, SYSTEM, serial=serial)
    return raw


@pytest.fixture
def axis(axis_client: TestClient, factory: sessionmaker[Session]) -> AxisSystem:
    system = AxisSystem(axis_client, user=SYSTEM_SERIAL, key=register_system(factory))
    assert system.sign_in().status_code == 200
    return system
