"""Stores for the storage tests: local disk in a temporary folder, and S3 on moto's server.

moto's S3 server runs on loopback for the whole session (``s3_endpoint``, in the top conftest); each
test gets a prefix of its own in one bucket. Every store test runs against both backends.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable
from pathlib import Path
from typing import TypeVar

import pytest

from openbwv.storage.backends import LocalStore, S3Store
from openbwv.storage.store import RawStore, StoredObject
from tests.s3 import BUCKET

MASTER_KEY = bytes(range(32))
T = TypeVar("T")


def run(awaitable: Awaitable[T]) -> T:
    async def main() -> T:
        return await awaitable

    return asyncio.run(main())


@pytest.fixture(params=["local", "s3"])
def raw_store(request: pytest.FixtureRequest, tmp_path: Path) -> RawStore:
    """An empty raw (unsealed) store on each backend in turn."""
    if request.param == "local":
        return LocalStore(tmp_path / "storage")
    request.getfixturevalue("s3_endpoint")
    return S3Store(f"s3://{BUCKET}/{uuid.uuid4().hex}")


async def pieces(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    """``data`` as an upload would send it: in pieces unrelated to any chunk size."""
    for offset in range(0, len(data), size):
        yield data[offset : offset + size]


async def failing_after(data: bytes, size: int = 7000) -> AsyncIterator[bytes]:
    async for piece in pieces(data, size):
        yield piece
    raise ConnectionResetError("the client went away")


def put(store: RawStore, key: str, data: bytes | AsyncIterable[bytes]) -> StoredObject:
    return run(store.put(key, pieces(data) if isinstance(data, bytes) else data))


def read(store: RawStore, key: str, start: int = 0, end: int | None = None) -> bytes:
    async def collect() -> bytes:
        return b"".join([chunk async for chunk in store.read(key, start, end)])

    return run(collect())


def keys(store: RawStore, prefix: str = "") -> list[str]:
    async def collect() -> list[str]:
        return sorted([key async for key in store.keys(prefix)])

    return run(collect())


class RecordingStore:
    """A raw store that notes every byte range read from it (a real store underneath)."""

    def __init__(self, inner: RawStore) -> None:
        self.inner = inner
        self.ranges: list[tuple[int, int | None]] = []

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        return await self.inner.put(key, chunks)

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        self.ranges.append((start, end))
        return self.inner.read(key, start, end)

    async def size(self, key: str) -> int | None:
        return await self.inner.size(key)

    async def delete(self, key: str) -> None:
        await self.inner.delete(key)

    def keys(self, prefix: str = "") -> AsyncIterator[str]:
        return self.inner.keys(prefix)

    async def move(self, source: str, target: str) -> bool:
        return await self.inner.move(source, target)
