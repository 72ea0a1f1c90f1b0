"""The uploads' declared jobs: every worker expires unfinished uploads every ten minutes and at start-up."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from openbwv.app import all_jobs
from openbwv.clock import FixedClock
from openbwv.config import Settings
from openbwv.domains import JobContext
from openbwv.uploads.jobs import EXPIRE_UPLOADS, registry_for
from tests.uploads.helpers import TUS, creation_headers, patch_headers, source_bytes, stored_keys

DATA = source_bytes(10_000)


class TestExpiryJob:
    def test_every_worker_runs_it(self, settings: Settings) -> None:
        registry = all_jobs(settings)
        assert registry.schedules[EXPIRE_UPLOADS].cron == "*/10 * * * *"

    def test_the_schedule_and_the_start_up_sweep_delete_what_expired(
        self,
        tus: TestClient,
        dock: dict[str, str],
        clock: FixedClock,
        upload_settings: Settings,
        factory: sessionmaker[Session],
    ) -> None:
        registry = registry_for(JobContext(upload_settings))
        [sweep] = registry.startup_hooks
        urls = []
        for _ in range(2):
            url = tus.post("/api/v1/uploads", headers=creation_headers(dock, DATA)).headers["Location"]
            tus.patch(url, headers=patch_headers(dock, 0), content=DATA[:100])
            urls.append(url)
        clock.advance(timedelta(hours=73))
        registry.schedules[EXPIRE_UPLOADS].handler(factory)
        assert stored_keys(upload_settings) == []
        assert [tus.head(url, headers={**dock, **TUS}).status_code for url in urls] == [410, 410]
        sweep(factory)  # nothing left to expire: a second run changes nothing
