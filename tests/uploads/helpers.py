"""What the uploads tests share: tus headers, a file's metadata, a stand-in for footage ingest and a
look at what the store holds."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import threading
import time
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings
from openbwv.jobs import JobRegistry
from openbwv.storage import open_store
from openbwv.uploads import INGEST_TASK

TUS = {"Tus-Resumable": "1.0.0"}
OFFSET_STREAM = {"Content-Type": "application/offset+octet-stream"}
RECORDED_AT = "2026-11-26T07:58:00Z"


def file_metadata(data: bytes, **overrides: str) -> dict[str, str]:
    """What a dock says of ``data``: a name, the camera, when recording started and its SHA-256."""
    return {
        "filename": "AXON_0001.mp4",
        "camera_serial": "CAM-001",
        "recorded_at": RECORDED_AT,
        "sha256": hashlib.sha256(data).hexdigest(),
        **overrides,
    }


def metadata_header(pairs: dict[str, str]) -> str:
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in pairs.items())


def creation_headers(auth: dict[str, str], data: bytes, **overrides: str) -> dict[str, str]:
    return {
        **auth,
        **TUS,
        "Upload-Length": str(len(data)),
        "Upload-Metadata": metadata_header(file_metadata(data, **overrides)),
    }


def patch_headers(auth: dict[str, str], offset: int, **extra: str) -> dict[str, str]:
    return {**auth, **TUS, **OFFSET_STREAM, "Upload-Offset": str(offset), **extra}


def checksum(algorithm: str, data: bytes) -> str:
    return f"{algorithm} {base64.b64encode(hashlib.new(algorithm, data).digest()).decode()}"


def source_bytes(size: int, seed: int = 1) -> bytes:
    """``size`` bytes that differ at every offset, so a part stored in the wrong place shows."""
    out = bytearray()
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(f"{seed}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:size])


class IngestRecorder:
    """The stand-in for footage ingest: records each ``footage.ingest`` payload it is handed."""

    def __init__(self) -> None:
        self.payloads: list[dict[str, Any]] = []
        self._lock = threading.Lock()

    def record(self, factory: sessionmaker[Session], payload: dict[str, Any]) -> None:
        with self._lock:
            self.payloads.append(payload)

    def registry(self) -> JobRegistry:
        registry = JobRegistry()
        registry.task(INGEST_TASK)(self.record)
        return registry

    def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:
        deadline = time.monotonic() + timeout
        while len(self.payloads) < count:
            assert time.monotonic() < deadline, f"{count} payload(s) not handed over within {timeout} s"
            time.sleep(0.02)
        return self.payloads


def stored(settings: Settings, key: str) -> bytes | None:
    """The object under ``key`` in the store ``settings`` name, or None."""

    async def read() -> bytes | None:
        try:
            return b"".join([chunk async for chunk in open_store(settings).read(key)])
        except FileNotFoundError:
            return None

    return asyncio.run(read())


def stored_keys(settings: Settings, prefix: str = "uploads/") -> list[str]:
    async def keys() -> list[str]:
        return [key async for key in open_store(settings).keys(prefix)]

    return asyncio.run(keys())


def joined(settings: Settings, keys: list[str]) -> bytes:
    parts = [stored(settings, key) for key in keys]
    assert all(part is not None for part in parts), "a listed part is missing from the store"
    return b"".join(part for part in parts if part is not None)
