"""Automatic recording's jobs: act on an arming that live heard, publish the record commands once
committed, and the start-up sweep that re-queues commands left unsent."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openbwv import live
from openbwv.db import transaction
from openbwv.domains import JobContext
from openbwv.jobs import JobRegistry, enqueue
from openbwv.taser import recording


def recording_jobs(context: JobContext) -> JobRegistry:
    """The automatic recording tasks, publishing through the force's broker (``OPENBWV_MQTT_URL``)."""
    registry = JobRegistry()
    commands = live.camera_commands(context.settings.mqtt_url)

    @registry.task(live.TASER_ARMED_TASK)
    def taser_armed(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        """A camera said its officer armed a Taser: tell the cameras to record."""
        with transaction(factory) as db:
            recording.start_recording(
                db,
                source="telemetry",
                camera_serial=payload["camera_serial"],
                armed_at=datetime.fromisoformat(payload["armed_at"]),
                lat=payload["lat"],
                lon=payload["lon"],
            )

    @registry.task(recording.SEND_TASK)
    def send_record_commands(factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        """Publish committed record commands to their cameras."""
        recording.send_record_commands(factory, commands, payload["ids"])

    @registry.on_startup
    def requeue_unsent(factory: sessionmaker[Session]) -> None:
        """Commands committed but never published (a worker stopped between) go out while still timely."""
        with transaction(factory) as db:
            ids = recording.unsent_command_ids(db)
            if ids:
                enqueue(db, recording.SEND_TASK, {"ids": ids}, dedupe_key=f"{recording.SEND_TASK}:{ids[0]}")

    return registry
