"""Many slow uploads at once against a real server, with ordinary API calls made during them.

One asyncio process drives it all: each upload is a raw HTTP/1.1 request on its own connection,
sending one preallocated chunk again and again at a fixed pace (no per-byte work in Python), and
one prober calls ``GET /api/v1/me`` every ``probe_every`` seconds and reads the server's pool
(``GET /test/pool`` of ``tests/streaming_app.py``) between calls.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import statistics
import time
from dataclasses import dataclass, field
from urllib.parse import urlparse

import httpx2

from tests.streaming_app import POOL_PATH, STREAM_PATH

MIB = 1024 * 1024
PROBE_PATH = "/api/v1/me"


@dataclass(frozen=True)
class Plan:
    uploads: int = 200
    chunk_bytes: int = 256 * 1024
    chunks: int = 80  # 20 MiB
    seconds: float = 10.0  # the last chunk leaves this long after the first
    probe_every: float = 0.05

    @property
    def upload_bytes(self) -> int:
        return self.chunk_bytes * self.chunks


@dataclass
class Upload:
    status: int = 0
    body: dict[str, object] = field(default_factory=dict)
    seconds: float = 0.0
    error: str = ""


@dataclass
class Outcome:
    plan: Plan
    expected_sha256: str
    uploads: list[Upload]
    probe_latencies: list[float]
    probe_failures: int
    # The pool's checked-out connections, read after each probe while every upload was streaming.
    checked_out_mid_stream: list[int]
    peak_checked_out: int
    seconds: float

    @property
    def uploads_right(self) -> int:
        expected = {"bytes": self.plan.upload_bytes, "sha256": self.expected_sha256}
        return sum(1 for u in self.uploads if u.status == 200 and u.body == expected)

    def problems(self) -> list[str]:
        """Uploads that did not come back whole, each once, by what went wrong."""
        seen: dict[str, int] = {}
        for upload in self.uploads:
            if not (upload.status == 200 and upload.body.get("sha256") == self.expected_sha256):
                key = upload.error or f"{upload.status} {upload.body}"[:200]
                seen[key] = seen.get(key, 0) + 1
        return [f"{count} x {what}" for what, count in seen.items()]


def percentile(values: list[float], fraction: float) -> float:
    """The ``fraction`` quantile (0.5, 0.95) of ``values``, interpolated."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


async def _upload(host: str, port: int, authorization: str, chunk: bytes, plan: Plan) -> Upload:
    loop = asyncio.get_running_loop()
    started = loop.time()
    result = Upload()
    try:
        reader, writer = await asyncio.open_connection(host, port)
        writer.write(
            (
                f"POST {STREAM_PATH} HTTP/1.1\r\nHost: {host}:{port}\r\nAuthorization: {authorization}\r\n"
                f"Content-Type: application/octet-stream\r\nContent-Length: {plan.upload_bytes}\r\n"
                "Connection: close\r\n\r\n"
            ).encode()
        )
        pause = plan.seconds / (plan.chunks - 1)
        for index in range(plan.chunks):
            delay = started + index * pause - loop.time()
            if delay > 0:
                await asyncio.sleep(delay)
            writer.write(chunk)
            await writer.drain()
        answer = await reader.read()
        writer.close()
        head, _, body = answer.partition(b"\r\n\r\n")
        result.status = int(head.split(b" ", 2)[1])
        result.body = json.loads(body) if body else {}
    except (OSError, ValueError, IndexError) as exc:
        result.error = f"{type(exc).__name__}: {exc}"
    result.seconds = loop.time() - started
    return result


async def _probe(
    base_url: str, headers: dict[str, str], plan: Plan, stop: asyncio.Event
) -> tuple[list[float], int, list[int]]:
    """Ordinary calls every ``plan.probe_every`` s until ``stop``: their latencies and failures, and
    the pool's checked-out connections read after each call while every upload was streaming."""
    latencies: list[float] = []
    failures = 0
    checked_out: list[int] = []
    async with httpx2.AsyncClient(base_url=base_url, headers=headers, timeout=60) as client:
        while not stop.is_set():
            started = time.perf_counter()
            try:
                answer = await client.get(PROBE_PATH)
                if answer.status_code == 200:
                    latencies.append(time.perf_counter() - started)
                else:
                    failures += 1
            except httpx2.TransportError:
                failures += 1
            pool = (await client.get(POOL_PATH)).json()
            if pool["streaming"] == plan.uploads:
                checked_out.append(pool["checked_out"])
            await asyncio.sleep(max(0.0, plan.probe_every - (time.perf_counter() - started)))
    return latencies, failures, checked_out


async def run_load(base_url: str, headers: dict[str, str], plan: Plan) -> Outcome:
    """``plan.uploads`` uploads at once, and probes from before the first to after the last."""
    chunk = os.urandom(plan.chunk_bytes)
    digest = hashlib.sha256()
    for _ in range(plan.chunks):
        digest.update(chunk)
    address = urlparse(base_url)
    assert address.hostname is not None and address.port is not None
    stop = asyncio.Event()
    prober = asyncio.create_task(_probe(base_url, headers, plan, stop))
    await asyncio.sleep(0.5)
    started = time.perf_counter()
    uploads = [
        _upload(address.hostname, address.port, headers["Authorization"], chunk, plan)
        for _ in range(plan.uploads)
    ]
    results = await asyncio.gather(*uploads)
    seconds = time.perf_counter() - started
    await asyncio.sleep(0.5)
    stop.set()
    latencies, failures, checked_out = await prober
    async with httpx2.AsyncClient(base_url=base_url) as client:
        peak = (await client.get(POOL_PATH)).json()["peak"]
    return Outcome(plan, digest.hexdigest(), list(results), latencies, failures, checked_out, peak, seconds)


async def probe_alone(base_url: str, headers: dict[str, str], plan: Plan, seconds: float) -> list[float]:
    """The baseline: the same probes for ``seconds`` with nothing else running."""
    stop = asyncio.Event()
    prober = asyncio.create_task(_probe(base_url, headers, plan, stop))
    await asyncio.sleep(seconds)
    stop.set()
    latencies, _, _ = await prober
    return latencies
