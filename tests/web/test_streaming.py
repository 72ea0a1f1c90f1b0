"""Routes that stream a request body hold no database connection while the bytes flow.

The app is built from settings as the server builds it, with a pool of 5 on PostgreSQL, plus the
upload route of ``tests/streaming_app.py``. The client sends part of a body and pauses: while the
route waits for the rest, the pool's checked-out connections are read. A route that holds a session
while it streams is the control: the same reading sees its connection.

The slow test does it at scale against a real server: 200 uploads of 20 MiB, each over 10 s, with
ordinary calls made throughout (``bench/bench_streaming.py`` measures their latency).
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx2
import pytest
from fastapi import FastAPI
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import Request
from starlette.types import Message

from openbwv.app import create_app
from openbwv.config import Settings
from openbwv.db import POOL_OVERFLOW_FACTOR, transaction
from openbwv.errors import TooLarge
from openbwv.jobs import JobRegistry
from openbwv.policy import Role
from openbwv.web.streams import stream_body
from tests.builders import DEFAULT_PASSWORD, headers_for, make_user
from tests.conftest import ON_POSTGRES_ONLY
from tests.server_process import ServerProcess
from tests.streaming_app import STREAM_PATH, PoolWatch, with_streaming_routes
from tests.streaming_load import Plan, run_load

CHUNK = bytes(range(256)) * 256  # 64 KiB
CHUNKS_BEFORE_PAUSE = 3
CHUNKS_AFTER_PAUSE = 5


@dataclass
class Streaming:
    app: FastAPI
    watch: PoolWatch
    headers: dict[str, str]


@pytest.fixture
def streaming(database_url: str, tmp_path: Path) -> Iterator[Streaming]:
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, secret_key="test-secret", database_pool_size=5
    )
    app = create_app(settings, jobs=JobRegistry())
    watch = with_streaming_routes(app)
    headers = headers_for(app.state.session_factory, Role.OFFICER)
    yield Streaming(app, watch, headers)
    app.state.session_factory.kw["bind"].dispose()


@dataclass
class Upload:
    status: int
    body: dict[str, object]
    checked_out_mid_stream: int


async def _upload_with_a_pause(streaming: Streaming, path: str) -> Upload:
    """Send part of the body, read the pool while the route waits for the rest, then send the rest."""
    paused, resume = asyncio.Event(), asyncio.Event()

    async def body() -> AsyncIterator[bytes]:
        for _ in range(CHUNKS_BEFORE_PAUSE):
            yield CHUNK
        paused.set()
        await resume.wait()
        for _ in range(CHUNKS_AFTER_PAUSE):
            yield CHUNK

    transport = httpx2.ASGITransport(streaming.app, raise_app_exceptions=False)
    async with httpx2.AsyncClient(transport=transport, base_url="https://testserver") as client:
        sending = asyncio.create_task(client.post(path, content=body(), headers=streaming.headers))
        await asyncio.wait_for(paused.wait(), timeout=10)
        # Whatever the route opened it opened before asking for more of the body; let the thread pool
        # finish anything in flight before reading the pool.
        await asyncio.sleep(0.2)
        checked_out = streaming.watch.now()
        resume.set()
        response = await asyncio.wait_for(sending, timeout=30)
    return Upload(response.status_code, response.json(), checked_out)


class TestStreamBody:
    def test_no_connection_is_checked_out_while_a_body_streams(self, streaming: Streaming) -> None:
        upload = asyncio.run(_upload_with_a_pause(streaming, STREAM_PATH))
        assert upload.checked_out_mid_stream == 0
        size = len(CHUNK) * (CHUNKS_BEFORE_PAUSE + CHUNKS_AFTER_PAUSE)
        expected = hashlib.sha256(CHUNK * (CHUNKS_BEFORE_PAUSE + CHUNKS_AFTER_PAUSE)).hexdigest()
        assert (upload.status, upload.body) == (200, {"bytes": size, "sha256": expected})

    def test_a_route_holding_a_session_is_seen_holding_its_connection(self, streaming: Streaming) -> None:
        # The control for the test above: the same reading, mid-stream, sees a connection held.
        upload = asyncio.run(_upload_with_a_pause(streaming, f"{STREAM_PATH}/holding-a-session"))
        assert upload.checked_out_mid_stream == 1
        assert upload.status == 200

    def test_a_route_declaring_db_cannot_stream_a_body(self, streaming: Streaming) -> None:
        with pytest.raises(RuntimeError, match="must not declare Db"):
            asyncio.run(_post(streaming.app, f"{STREAM_PATH}/declaring-db", streaming.headers))

    def test_an_anonymous_caller_is_refused(self, streaming: Streaming) -> None:
        assert asyncio.run(_post(streaming.app, STREAM_PATH, {})).status_code == 401


POOL_SIZE = 5


class TestManySlowUploads:
    # The pool size is a PostgreSQL setting: this test exists on PostgreSQL only.
    @pytest.mark.slow
    @ON_POSTGRES_ONLY
    def test_200_slow_uploads_succeed_with_a_pool_of_5_and_hold_no_connection(
        self, database_url: str, factory: sessionmaker[Session], tmp_path: Path
    ) -> None:
        with transaction(factory) as db:
            make_user(db, username="uploading.officer", roles=[Role.OFFICER])
        server = ServerProcess(
            database_url=database_url,
            data_dir=tmp_path / "data",
            log_path=tmp_path / "server.log",
            app_factory="tests.streaming_app:create_streaming_app",
            settings={"database_pool_size": str(POOL_SIZE)},
        )
        try:
            server.wait_ready()
            # Signed in through the server: it reads the wall clock, not the test's fixed one.
            headers = server.bearer_headers("uploading.officer", DEFAULT_PASSWORD)
            outcome = asyncio.run(run_load(server.base_url, headers, Plan()))
        finally:
            server.stop()
        assert outcome.problems() == []
        assert outcome.uploads_right == 200
        assert min(upload.seconds for upload in outcome.uploads) >= 10
        assert outcome.probe_failures == 0 and outcome.probe_latencies
        # Read while all 200 bodies were streaming: nothing held a connection.
        assert outcome.checked_out_mid_stream and set(outcome.checked_out_mid_stream) == {0}
        assert outcome.peak_checked_out <= POOL_SIZE * (1 + POOL_OVERFLOW_FACTOR)


async def _post(app: FastAPI, path: str, headers: dict[str, str]) -> httpx2.Response:
    transport = httpx2.ASGITransport(app)
    async with httpx2.AsyncClient(transport=transport, base_url="https://testserver") as client:
        return await client.post(path, content=CHUNK, headers=headers)


def _request(chunks: list[bytes]) -> Request:
    """A request whose body arrives as ``chunks``."""
    messages = [{"type": "http.request", "body": c, "more_body": True} for c in chunks]
    messages.append({"type": "http.request", "body": b"", "more_body": False})

    async def receive() -> Message:
        return messages.pop(0)

    return Request({"type": "http", "method": "POST", "headers": []}, receive)


class TestStreamBodyLimit:
    def test_the_chunks_reach_the_sink_in_order(self) -> None:
        received: list[bytes] = []

        async def sink(chunk: bytes) -> None:
            await asyncio.sleep(0)
            received.append(chunk)

        length = asyncio.run(stream_body(_request([b"ab", b"", b"cde"]), sink, limit=5))
        assert (length, received) == (5, [b"ab", b"cde"])

    def test_more_than_the_limit_is_refused_as_it_arrives(self) -> None:
        received: list[bytes] = []
        with pytest.raises(TooLarge):
            asyncio.run(stream_body(_request([b"ab", b"cde", b"f"]), received.append, limit=4))
        assert received == [b"ab"]
