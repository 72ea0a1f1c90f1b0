"""Interrupted uploads resume where the stored bytes end, against a real server: raw HTTP that drops
connections at random offsets, a standard tus client (tuspy), and two PATCHes racing for one offset.

Each test draws its offsets from a seed it names in any failure, so a failing draw can be replayed.
"""

from __future__ import annotations

import hashlib
import io
import random
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx2
from sqlalchemy.orm import Session, sessionmaker
from tusclient.client import TusClient

from openbwv.config import Settings
from tests.conftest import ON_POSTGRES_ONLY
from tests.server_process import ServerProcess
from tests.uploads.helpers import TUS, checksum, file_metadata, patch_headers, source_bytes, stored_keys
from tests.uploads.live import (
    check_handed_over,
    create_upload,
    head_offset,
    patch,
    send_then_drop,
    start_server,
    stored_bytes,
    stored_upload,
    wait_for_offset,
)


class TestRawHttpInterruptions:
    def test_drops_at_random_offsets_keep_what_arrived_and_the_file_completes_intact(
        self,
        served: ServerProcess,
        dock: dict[str, str],
        settings: Settings,
        factory: sessionmaker[Session],
        database_url: str,
    ) -> None:
        seed = random.randrange(2**32)
        rng = random.Random(seed)
        data = source_bytes(3 * 1024 * 1024 + 17, seed=seed)
        url = create_upload(served.base_url, dock, data)
        offset = 0
        for _ in range(6):
            cut = rng.randint(1, min(len(data) - offset - 1, 700_000))
            send_then_drop(url, dock, offset, data[offset : offset + cut], declared=len(data) - offset)
            reached = wait_for_offset(url, dock, offset + cut)
            assert reached == offset + cut, f"seed {seed}: dropped at {offset + cut}, HEAD says {reached}"
            offset = reached
        assert patch(url, dock, offset, data[offset:]).status_code == 204
        upload = stored_upload(factory, url)
        assert (upload.state, upload.offset, len(upload.parts)) == ("complete", len(data), 7), f"seed {seed}"
        assert hashlib.sha256(stored_bytes(settings, factory, url)).digest() == hashlib.sha256(data).digest()
        check_handed_over(database_url, url, data)

    def test_a_tampered_chunk_is_refused_with_460_and_the_offset_stays(
        self, served: ServerProcess, dock: dict[str, str], settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        data = source_bytes(200_000)
        url = create_upload(served.base_url, dock, data)
        assert patch(url, dock, 0, data[:50_000]).status_code == 204
        tampered = data[50_000:120_000].replace(data[60_000:60_010], b"\x00" * 10)
        answer = patch(
            url, dock, 50_000, tampered, **{"Upload-Checksum": checksum("sha1", data[50_000:120_000])}
        )
        assert answer.status_code == 460
        assert head_offset(url, dock) == 50_000
        assert len(stored_keys(settings)) == 1

    def test_a_dropped_chunk_with_a_checksum_keeps_nothing(
        self, served: ServerProcess, dock: dict[str, str], settings: Settings
    ) -> None:
        data = source_bytes(200_000)
        url = create_upload(served.base_url, dock, data)
        digest = checksum("sha256", data)
        send_then_drop(url, dock, 0, data[:90_000], declared=len(data), **{"Upload-Checksum": digest})
        time.sleep(0.5)
        assert head_offset(url, dock) == 0
        assert stored_keys(settings) == []


class TestTuspy:
    def test_a_standard_client_uploads_in_small_chunks_stops_part_way_and_resumes(
        self,
        served: ServerProcess,
        dock: dict[str, str],
        settings: Settings,
        factory: sessionmaker[Session],
        database_url: str,
    ) -> None:
        seed = random.randrange(2**32)
        rng = random.Random(seed)
        data = source_bytes(2 * 1024 * 1024 + 3, seed=seed)
        client = TusClient(f"{served.base_url}/api/v1/uploads", headers=dock)
        first = client.uploader(
            file_stream=io.BytesIO(data),
            chunk_size=64 * 1024 + 7,
            metadata=file_metadata(data),
            upload_checksum=True,
        )
        stop_at = rng.randint(1, len(data) - 1)
        first.upload(stop_at=stop_at)
        assert first.url is not None
        assert head_offset(first.url, dock) == stop_at, f"seed {seed}"
        # The connection then drops in the middle of a chunk sent without a checksum.
        cut = rng.randint(1, len(data) - stop_at - 1)
        send_then_drop(first.url, dock, stop_at, data[stop_at : stop_at + cut], declared=len(data) - stop_at)
        wait_for_offset(first.url, dock, stop_at + cut)
        # A new client (as after a restart of the dock) asks where to resume, and finishes.
        resumed = client.uploader(
            file_stream=io.BytesIO(data), url=first.url, chunk_size=100_000, upload_checksum=True
        )
        assert resumed.offset == stop_at + cut, f"seed {seed}"
        resumed.upload()
        upload = stored_upload(factory, first.url)
        assert (upload.state, upload.offset) == ("complete", len(data)), f"seed {seed}"
        assert (
            hashlib.sha256(stored_bytes(settings, factory, first.url)).hexdigest()
            == hashlib.sha256(data).hexdigest()
        )
        check_handed_over(database_url, first.url, data)


class TestRace:
    def test_two_patches_at_one_offset_one_is_stored_the_other_refused_with_409(
        self, served: ServerProcess, dock: dict[str, str], settings: Settings, factory: sessionmaker[Session]
    ) -> None:
        data = source_bytes(400_000)
        url = create_upload(served.base_url, dock, data)
        both_streaming = threading.Barrier(2, timeout=10)
        bodies = [data[:300_000], source_bytes(300_000, seed=99)]

        def body(index: int) -> Iterator[bytes]:
            yield bodies[index][:100_000]
            both_streaming.wait()
            time.sleep(0.3)
            yield bodies[index][100_000:]

        def send(index: int) -> httpx2.Response:
            return httpx2.patch(url, headers=patch_headers(dock, 0), content=body(index), timeout=30)

        with ThreadPoolExecutor(max_workers=2) as pool:
            answers = list(pool.map(send, range(2)))
        assert sorted(a.status_code for a in answers) == [204, 409]
        winner = bodies[[a.status_code for a in answers].index(204)]
        assert head_offset(url, dock) == 300_000
        assert stored_bytes(settings, factory, url) == winner
        # The loser's object was deleted: only the winner's part is stored.
        assert len(stored_keys(settings)) == 1


@ON_POSTGRES_ONLY
class TestTwoServers:
    def test_chunks_sent_alternately_to_two_processes_complete_one_upload(
        self,
        database_url: str,
        dock: dict[str, str],
        stored_on: Settings,
        factory: sessionmaker[Session],
        tmp_path: Path,
    ) -> None:
        """On PostgreSQL, with the store on local disk and on S3 in turn."""
        settings = stored_on
        servers = [
            start_server(
                database_url, settings.data_dir, tmp_path / f"server{i}.log", storage_url=settings.storage_url
            )
            for i in range(2)
        ]
        try:
            data = source_bytes(2 * 1024 * 1024 + 101, seed=7)
            url = create_upload(servers[0].base_url, dock, data)
            path = url.split("/api/", 1)[1]
            offset, turn = 0, 0
            while offset < len(data):
                chunk = data[offset : offset + 150_001]
                answer = patch(f"{servers[turn].base_url}/api/{path}", dock, offset, chunk)
                assert answer.status_code == 204, answer.text
                offset = int(answer.headers["Upload-Offset"])
                turn = 1 - turn
            other = f"{servers[1].base_url}/api/{path}"
            answer = httpx2.head(other, headers={**dock, **TUS}, timeout=10)
            assert answer.headers["Upload-Offset"] == str(len(data))
        finally:
            for server in servers:
                server.stop()
        assert stored_bytes(settings, factory, url) == data
        check_handed_over(database_url, url, data)
