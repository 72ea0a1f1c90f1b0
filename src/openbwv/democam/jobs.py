"""The demo cameras' schedule: a clip a minute from an officer holding a camera, only when the
settings turn the demo cameras on."""

from __future__ import annotations

from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet, people
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.democam.recorder import DOCK_FOLDER, record_clip
from openbwv.domains import JobContext
from openbwv.jobs import JobRegistry

RECORD = "democam.record"


def record_one(factory: sessionmaker[Session], settings: Settings) -> None:
    """One clip from the next officer holding a camera, in turn by the minute."""
    now = clock.now()
    with transaction(factory) as db:
        issues = fleet.list_open_issues(db, device_kind="camera")
        if not issues:
            return
        chosen = issues[(now.hour * 60 + now.minute) % len(issues)]
        officer = people.get_officer_by_id(db, chosen.issue.officer_id)
        if officer is None:
            return
        serial, collar, station = chosen.device.serial, officer.collar_number, chosen.device.station
    record_clip(
        settings.data_dir / DOCK_FOLDER,
        camera_serial=serial,
        collar_number=collar,
        station=station,
        started_at=now.replace(microsecond=0),
    )


def registry_for(context: JobContext) -> JobRegistry:
    """Nothing unless ``demo_cameras`` is on: a normal server never records."""
    registry = JobRegistry()
    if not context.settings.demo_cameras:
        return registry
    settings = context.settings

    @registry.schedule(RECORD, "* * * * *")
    def record_every_minute(factory: sessionmaker[Session]) -> None:
        """Every minute: a demo camera records a short clip into the demo dock."""
        record_one(factory, settings)

    @registry.on_startup
    def record_at_start(factory: sessionmaker[Session]) -> None:
        """At start-up too, so the first clip arrives without waiting for the minute."""
        record_one(factory, settings)

    return registry
