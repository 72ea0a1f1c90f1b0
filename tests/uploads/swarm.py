"""Many docks uploading at once from one asyncio client: raw tus over one connection each, cheap
enough for one process to drive hundreds of uploads on a small machine. Used by the load test and
the ingest benchmark."""

from __future__ import annotations

import asyncio
import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx2

from tests.uploads.helpers import creation_headers, patch_headers


@dataclass(frozen=True)
class SwarmOutcome:
    urls: list[str]
    seconds: float
    failures: list[str]


async def _one(
    client: httpx2.AsyncClient, base_url: str, auth: dict[str, str], data: bytes | Path, chunk: int
) -> str:
    """Create one upload and send it chunk by chunk (a file is read a chunk at a time); its URL."""
    path, content = (data, None) if isinstance(data, Path) else (None, data)
    # A file on disk is named by its SHA-256 (``<sha256>.bin``), so it is not read twice.
    sha256 = path.stem if path is not None else hashlib.sha256(data).hexdigest()  # type: ignore[arg-type]
    size = path.stat().st_size if path is not None else len(data)  # type: ignore[arg-type]
    headers = {**creation_headers(auth, b"", sha256=sha256), "Upload-Length": str(size)}
    answer = await client.post(f"{base_url}/api/v1/uploads", headers=headers)
    assert answer.status_code == 201, answer.text
    url = str(answer.headers["Location"])
    offset = 0
    handle = path.open("rb") if path is not None else None
    try:
        while offset < size:
            if handle is not None:
                body = await asyncio.to_thread(handle.read, chunk)
            else:
                assert content is not None
                body = content[offset : offset + chunk]
            answer = await client.patch(url, headers=patch_headers(auth, offset), content=body)
            assert answer.status_code == 204, f"{answer.status_code} {answer.text}"
            offset = int(answer.headers["Upload-Offset"])
    finally:
        if handle is not None:
            handle.close()
    return url


async def upload_all(
    base_url: str,
    auths: Sequence[dict[str, str]],
    files: Sequence[bytes | Path],
    *,
    chunk: int,
    concurrency: int | None = None,
) -> SwarmOutcome:
    """Upload every file, ``concurrency`` at once (default: all), the docks' credentials in turn."""
    limit = concurrency or len(files)
    gate = asyncio.Semaphore(limit)
    timeout = httpx2.Timeout(300.0)
    limits = httpx2.Limits(max_connections=limit, max_keepalive_connections=limit)
    failures: list[str] = []
    urls: list[str] = []
    async with httpx2.AsyncClient(timeout=timeout, limits=limits) as client:

        async def guarded(index: int, data: bytes | Path) -> None:
            async with gate:
                try:
                    urls.append(await _one(client, base_url, auths[index % len(auths)], data, chunk))
                except Exception as exc:
                    failures.append(f"file {index}: {exc!r}")

        started = time.perf_counter()
        await asyncio.gather(*(guarded(i, data) for i, data in enumerate(files)))
        seconds = time.perf_counter() - started
    return SwarmOutcome(urls=urls, seconds=seconds, failures=failures)
