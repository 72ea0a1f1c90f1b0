from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import all_jobs
from openbwv.audit import jobs
from openbwv.audit.models import AuditCheckpoint, AuditEvent
from openbwv.config import Settings
from tests.audit.helpers import record_events


def _checkpoint_sizes(factory: sessionmaker[Session]) -> list[int]:
    with factory() as db:
        return list(db.scalars(select(AuditCheckpoint.tree_size).order_by(AuditCheckpoint.tree_size)))


class TestAuditJobs:
    def test_the_worker_signs_a_checkpoint_every_few_seconds_and_verifies_nightly(
        self, settings: Settings
    ) -> None:
        schedules = all_jobs(settings).schedules
        assert schedules[jobs.SEQUENCE_AND_CHECKPOINT].cron == "* * * * * */3"
        assert schedules[jobs.MISUSE_RULES].cron == "* * * * *"
        assert schedules[jobs.NIGHTLY_VERIFICATION].cron == "15 3 * * *"

    def test_the_scheduled_handler_sequences_new_events_and_signs_once(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        handler = all_jobs(settings).schedules[jobs.SEQUENCE_AND_CHECKPOINT].handler
        record_events(factory, 5)
        handler(factory)
        handler(factory)
        record_events(factory, 2)
        handler(factory)
        assert _checkpoint_sizes(factory) == [5, 7]

    def test_the_start_up_sweep_catches_up_on_events_queued_while_no_worker_ran(
        self, settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        record_events(factory, 3)
        for hook in all_jobs(settings).startup_hooks:
            hook(factory)
        with factory() as db:
            events = db.scalar(select(func.count()).select_from(AuditEvent))
        assert events is not None and events >= 3
        assert _checkpoint_sizes(factory) == [events], (
            "one checkpoint covering every event, the sweeps' own too"
        )
