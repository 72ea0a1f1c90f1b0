"""500 docks uploading at once to one ``openbwv serve`` process (SQLite, local store, ingest in the
process): nothing is lost, and the server's memory stays bounded. A leading vendor's uploader caps at
26 cameras per workstation. Figures from the same load: ``bench/bench_ingest.py``."""

from __future__ import annotations

import asyncio
import hashlib
import random
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.footage.models import Clip
from tests.builders import device_headers_for
from tests.uploads.helpers import stored
from tests.uploads.live import start_server, stored_upload
from tests.uploads.swarm import upload_all

UPLOADS = 500
DOCKS = 5
CHUNK = 128 * 1024
GIB = 1024**3


def wait_for_clips(factory: sessionmaker[Session], count: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while True:
        with factory() as db:
            have = db.scalar(select(func.count()).select_from(Clip)) or 0
        if have >= count or time.monotonic() > deadline:
            return have
        time.sleep(0.5)


@pytest.mark.slow
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
class TestFiveHundredDocks:
    def test_every_upload_completes_every_clip_is_right_and_memory_stays_bounded(
        self, database_url: str, settings: Settings, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        seed = random.randrange(2**32)
        rng = random.Random(seed)
        files = [rng.randbytes(256 * 1024 + rng.randint(0, 64 * 1024)) for _ in range(UPLOADS)]
        docks = [device_headers_for(factory, kind="dock", serial=f"DOCK-{n}") for n in range(DOCKS)]
        server = start_server(database_url, settings.data_dir, tmp_path / "server.log")
        try:
            outcome = asyncio.run(upload_all(server.base_url, docks, files, chunk=CHUNK))
            assert outcome.failures == [], f"seed {seed}: {outcome.failures[:5]}"
            assert wait_for_clips(factory, UPLOADS, timeout=120) == UPLOADS, f"seed {seed}"
            peak = server.peak_rss_bytes
        finally:
            server.stop()
        assert len(outcome.urls) == UPLOADS
        for url in outcome.urls:
            upload = stored_upload(factory, url)
            assert (upload.state, upload.offset) == ("complete", upload.length), f"seed {seed}: {url}"
        wanted = {hashlib.sha256(data).hexdigest() for data in files}
        with factory() as db:
            clips = db.execute(select(Clip.sha256, Clip.storage_key)).all()
        assert {sha256 for sha256, _ in clips} == wanted
        for sha256, key in clips:
            data = stored(settings, key)
            assert data is not None and hashlib.sha256(data).hexdigest() == sha256, f"seed {seed}: {key}"
        assert peak is not None and peak < GIB, f"peak RSS {peak} bytes"
