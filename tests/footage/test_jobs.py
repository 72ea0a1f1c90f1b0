from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import all_jobs
from openbwv.config import Settings
from openbwv.db import transaction
from openbwv.footage import INGEST_TASK, ingest
from openbwv.footage.ingest import IngestRequest
from openbwv.footage.models import Clip
from openbwv.jobs import Worker, enqueue
from openbwv.storage import open_store
from tests.footage.helpers import demo_clip, holder_of_camera, keys, sources, upload


def _with_worker(
    settings: Settings, factory: sessionmaker[Session], scenario: Callable[[], Awaitable[None]]
) -> None:
    async def main() -> None:
        worker = Worker(settings, all_jobs(settings), factory=factory, heartbeat_timeout=timedelta(seconds=2))
        await worker.start()
        try:
            await scenario()
        finally:
            await worker.stop()

    asyncio.run(main())


def _states(factory: sessionmaker[Session]) -> list[str]:
    with factory() as db:
        return list(db.scalars(select(Clip.ingest_state).order_by(Clip.id)))


# A bound, not a figure: with three test workers on two cores, ingest and probe once took over 30 s.
async def _until(condition: Callable[[], bool], timeout: float = 90.0) -> None:
    for _ in range(int(timeout / 0.1)):
        if condition():
            return
        await asyncio.sleep(0.1)
    raise AssertionError(f"not true within {timeout} s")


class TestFootageJobs:
    def test_an_upload_queued_for_ingest_ends_as_a_ready_clip(
        self, settings: Settings, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        """The job engine runs ingest, which queues the probe, which makes the clip ready."""
        _, serial = holder_of_camera(factory)
        payload = upload(open_store(settings), demo_clip(tmp_path), camera_serial=serial)

        async def scenario() -> None:
            def queue() -> None:
                with transaction(factory) as db:
                    enqueue(db, INGEST_TASK, payload)

            await asyncio.to_thread(queue)
            await _until(lambda: _states(factory) == ["ready"])

        _with_worker(settings, factory, scenario)

    def test_the_start_up_sweep_requeues_unfinished_sources_and_clips(
        self, settings: Settings, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        """One upload was recorded but its job lost; another's clip was stored but never probed."""
        _, serial = holder_of_camera(factory)
        store = open_store(settings)
        lost = upload(store, demo_clip(tmp_path, seed=1), camera_serial=serial)
        ingest._record_source(factory, IngestRequest.from_payload(lost))
        unprobed = upload(store, demo_clip(tmp_path, seed=2), camera_serial=serial)
        ingest.ingest(factory, lambda: store, unprobed)
        assert _states(factory) == ["stored"]
        assert ingest.sweep(factory) == 2

        async def scenario() -> None:
            await _until(lambda: _states(factory) == ["ready", "ready"])

        _with_worker(settings, factory, scenario)
        with factory() as db:
            assert [s.outcome for s in sources(db)] == ["stored", "stored"]
        assert keys(store, "uploads/") == []
