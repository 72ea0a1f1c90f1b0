"""The nightly prune of the position history, on the job engine."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import all_jobs
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.live import telemetry
from openbwv.live.domain import HISTORY_RETENTION
from openbwv.live.models import PositionRecord
from tests.builders import make_device
from tests.live.helpers import MAX_AGE, encoded


class TestHistoryRetention:
    def test_the_prune_runs_nightly(self, settings: Settings) -> None:
        assert all_jobs(settings).schedules[HISTORY_RETENTION].cron == "50 2 * * *"

    def test_it_keeps_the_configured_days(
        self, settings: Settings, factory: sessionmaker[Session], clock: FixedClock
    ) -> None:
        settings = settings.model_copy(update={"live_history_days": 2})
        start = clock.now()
        with transaction(factory) as db:
            make_device(db, serial="CAM-R1")
        for days in (0, 1, 2):
            clock.set(start + timedelta(days=days))
            with transaction(factory) as db:
                telemetry.receive_readings(db, [("CAM-R1", encoded())], max_age=MAX_AGE)
        clock.set(start + timedelta(days=3, hours=1))
        all_jobs(settings).schedules[HISTORY_RETENTION].handler(factory)
        with factory() as db:
            kept = list(db.scalars(select(PositionRecord.ts).order_by(PositionRecord.ts)))
        assert kept == [start + timedelta(days=2)]
