"""``kill -9`` of the server in the middle of uploads, then a restart: every byte acknowledged before
the kill is kept, no upload is complete before its last byte, and every upload resumes and finishes
with exactly the bytes sent.

Four uploads run at once; each round the server is killed once a drawn number of chunks has been
acknowledged, so the other three are caught at whatever stage they are in (streaming, storing,
committing). The draws come from a seed named in any failure. Once every upload has finished,
``openbwv storage check`` finds the store consistent, and no bytes are left under ``uploads/`` that
no row names (a part stored by a request killed before it recorded it). On local disk and on S3.
"""

from __future__ import annotations

import hashlib
import random
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
import pytest
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from tests.server_process import ServerProcess
from tests.uploads.helpers import source_bytes
from tests.uploads.live import (
    check_handed_over,
    create_upload,
    head_offset,
    patch,
    start_server,
    storage_check,
    stored_bytes,
    stored_upload,
    stray_parts,
)

FILES = 4
ROUNDS = 4
CHUNK = 64 * 1024 + 5


def _path(url: str) -> str:
    return "/" + url.split("://", 1)[1].split("/", 1)[1]


class Acknowledged:
    """The highest offset each upload was answered with, and a kill once ``kill_after`` answers came."""

    def __init__(self) -> None:
        self.offsets: dict[str, int] = {}
        self._lock = threading.Lock()
        self._answers = 0
        self._kill: Callable[[], None] | None = None
        self._kill_after = 0

    def arm(self, server: ServerProcess, kill_after: int) -> None:
        self._answers, self._kill, self._kill_after = 0, server.kill, kill_after

    def note(self, path: str, offset: int) -> None:
        with self._lock:
            self.offsets[path] = max(self.offsets.get(path, 0), offset)
            self._answers += 1
            kill = self._kill if self._answers == self._kill_after else None
        if kill is not None:
            kill()


def _upload(base_url: str, path: str, auth: dict[str, str], data: bytes, acknowledged: Acknowledged) -> None:
    """Send chunks from wherever HEAD says to the end, noting each acknowledged offset."""
    url = base_url + path
    offset = head_offset(url, auth)
    while offset < len(data):
        answer = patch(url, auth, offset, data[offset : offset + CHUNK])
        if answer.status_code == 409:
            offset = head_offset(url, auth)
            continue
        assert answer.status_code == 204, answer.text
        offset = int(answer.headers["Upload-Offset"])
        acknowledged.note(path, offset)


def _upload_until_killed(
    base_url: str, path: str, auth: dict[str, str], data: bytes, acknowledged: Acknowledged
) -> None:
    try:
        _upload(base_url, path, auth, data, acknowledged)
    except httpx2.TransportError:
        return


@pytest.mark.slow
class TestKilledServer:
    def test_acknowledged_bytes_survive_and_the_uploads_finish_after_a_restart(
        self,
        database_url: str,
        stored_on: Settings,
        factory: sessionmaker[Session],
        dock: dict[str, str],
        tmp_path: Path,
    ) -> None:
        settings = stored_on
        seed = random.randrange(2**32)
        rng = random.Random(seed)
        files = [source_bytes(3 * 1024 * 1024 + rng.randint(0, 500_000), seed=seed + i) for i in range(FILES)]
        acknowledged = Acknowledged()
        paths: list[str] = []
        interrupted = 0
        for round_number in range(ROUNDS):
            server = start_server(
                database_url, settings.data_dir, tmp_path / "server.log", storage_url=settings.storage_url
            )
            try:
                if not paths:
                    paths = [_path(create_upload(server.base_url, dock, data)) for data in files]
                acknowledged.arm(server, kill_after=rng.randint(3, 30))
                with ThreadPoolExecutor(max_workers=FILES) as pool:
                    base_url = server.base_url
                    sent = [
                        pool.submit(_upload_until_killed, base_url, path, dock, data, acknowledged)
                        for path, data in zip(paths, files, strict=True)
                    ]
                    for future in sent:
                        future.result()
            finally:
                server.kill()
            for path, data in zip(paths, files, strict=True):
                upload = stored_upload(factory, path)
                where = f"seed {seed}, round {round_number}, {path}"
                assert upload.offset >= acknowledged.offsets.get(path, 0), f"{where}: acknowledged bytes lost"
                assert (upload.state == "complete") == (upload.offset == len(data)), where
                # What is stored is a prefix of the file, whatever the moment of the kill.
                assert stored_bytes(settings, factory, path) == data[: upload.offset], where
                interrupted += upload.offset < len(data)
        assert interrupted >= ROUNDS, f"seed {seed}: the kills came after the uploads had finished"
        server = start_server(
            database_url, settings.data_dir, tmp_path / "server.log", storage_url=settings.storage_url
        )
        try:
            for path, data in zip(paths, files, strict=True):
                _upload(server.base_url, path, dock, data, acknowledged)
        finally:
            server.stop()
        for path, data in zip(paths, files, strict=True):
            upload = stored_upload(factory, path)
            assert (upload.state, upload.offset) == ("complete", len(data)), f"seed {seed}"
            stored = stored_bytes(settings, factory, path)
            assert hashlib.sha256(stored).hexdigest() == hashlib.sha256(data).hexdigest(), f"seed {seed}"
            check_handed_over(database_url, path, data)
        assert stray_parts(settings, factory) == [], f"seed {seed}"
        assert storage_check(database_url, settings) == (0, "Storage is consistent"), f"seed {seed}"
