"""The raw stores under the sealing: local disk and S3-compatible object storage, both through obstore.

They hold whatever bytes they are given; :mod:`openbwv.storage.sealing` encrypts before they do.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from pathlib import Path
from typing import Any, BinaryIO

import anyio
import obstore
from obstore.exceptions import GenericError
from obstore.store import LocalStore as ObstoreLocal
from obstore.store import S3Store as ObstoreS3

from openbwv.storage.store import StoredObject, checked_key

READ_CHUNK = 1024 * 1024
# S3 parts are at least 5 MiB; each upload holds at most PART_SIZE x PART_CONCURRENCY in memory.
PART_SIZE = 8 * 1024 * 1024
PART_CONCURRENCY = 2
# Local writes land here first, are synced, then renamed under their key.
STAGING = ".staging"


async def _counted(chunks: AsyncIterable[bytes], total: list[int]) -> AsyncIterator[bytes]:
    async for chunk in chunks:
        total[0] += len(chunk)
        yield chunk


async def _chained(head: bytes, rest: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    yield head
    async for chunk in rest:
        yield chunk


class _ObstoreBacked:
    """The operations local disk and S3 share; ``_store`` is an obstore store."""

    _store: Any
    # One ranged get per READ_CHUNK rather than one streamed get: where a request costs little
    # (local files), obstore's stream is many times slower than its ranged gets.
    read_in_ranges = False

    async def _upload(self, key: str, chunks: AsyncIterable[bytes]) -> int:
        # An object that fits in one part goes up in one request; a larger one as a multipart
        # upload, whose parts stream out as they fill and which appears only once complete
        # (obstore aborts it when ``chunks`` raises). Either way nothing is visible half-written.
        stream = aiter(chunks)
        first = bytearray()
        async for chunk in stream:
            first += chunk
            if len(first) > PART_SIZE:
                break
        else:
            await obstore.put_async(self._store, key, bytes(first), use_multipart=False)
            return len(first)
        total = [0]
        await obstore.put_async(
            self._store,
            key,
            _counted(_chained(bytes(first), stream), total),
            use_multipart=True,
            chunk_size=PART_SIZE,
            max_concurrency=PART_CONCURRENCY,
        )
        return total[0]

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        checked_key(key)
        return StoredObject(key, await self._upload(key, chunks))

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        checked_key(key)
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"not a byte range: {start} to {end}")
        if self.read_in_ranges:
            async for chunk in self._read_in_ranges(key, start, end):
                yield chunk
            return
        options: dict[str, Any] = {}
        if start > 0 or end is not None:
            options["range"] = {"offset": start} if end is None else (start, end)
        try:
            result = await obstore.get_async(self._store, key, options=options)  # type: ignore[arg-type]
        except GenericError:
            # A range that starts at or past the end (or an empty one) is refused by the backend;
            # it reads as nothing when the object is there.
            size = await self.size(key)
            if size is None:
                raise FileNotFoundError(key) from None
            if end == start or start >= size:
                return
            raise
        async for chunk in result.stream(min_chunk_size=READ_CHUNK):
            yield bytes(chunk)

    async def _read_in_ranges(self, key: str, start: int, end: int | None) -> AsyncIterator[bytes]:
        size = await self.size(key)
        if size is None:
            raise FileNotFoundError(key)
        stop = size if end is None else min(end, size)
        while start < stop:
            upto = min(start + READ_CHUNK, stop)
            yield bytes(await obstore.get_range_async(self._store, key, start=start, end=upto))
            start = upto

    async def size(self, key: str) -> int | None:
        checked_key(key)
        try:
            meta = await obstore.head_async(self._store, key)
        except FileNotFoundError:
            return None
        return int(meta["size"])

    async def delete(self, key: str) -> None:
        checked_key(key)
        with contextlib.suppress(FileNotFoundError):
            await obstore.delete_async(self._store, key)

    async def move(self, source: str, target: str) -> bool:
        checked_key(source)
        checked_key(target)
        try:
            await obstore.rename_async(self._store, source, target)
        except FileNotFoundError:
            return False
        return True

    async def keys(self, prefix: str = "") -> AsyncIterator[str]:
        # obstore lists whole path segments under a prefix; a partial name is filtered here.
        folder = prefix.rsplit("/", 1)[0] if "/" in prefix else None
        async for batch in obstore.list(self._store, prefix=folder, chunk_size=1000):
            for meta in batch:
                key = meta["path"]
                if key.startswith(prefix) and not key.startswith(STAGING + "/"):
                    yield key


class LocalStore(_ObstoreBacked):
    """Objects as files under ``root``. A write goes to a staging file, is synced, then renamed
    under its key, so a crash (or a power cut) leaves either the whole object or none of it.

    Writes go straight to the file (one thread hop per chunk): obstore's local multipart upload
    costs several times the CPU of a plain write for the same bytes. Reads go through obstore."""

    read_in_ranges = True

    def __init__(self, root: Path) -> None:
        self.root = root
        (root / STAGING).mkdir(parents=True, exist_ok=True)
        self._store = ObstoreLocal(root)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        checked_key(key)
        staged = self.root / STAGING / uuid.uuid4().hex
        target = self.root / key
        size = 0
        try:
            handle = await anyio.to_thread.run_sync(staged.open, "wb")
            try:
                async for chunk in chunks:
                    await anyio.to_thread.run_sync(handle.write, chunk)
                    size += len(chunk)
                await anyio.to_thread.run_sync(_flush_and_sync, handle)
            finally:
                handle.close()
            await anyio.to_thread.run_sync(_rename_into_place, staged, target)
        except BaseException:
            with anyio.CancelScope(shield=True):
                await anyio.to_thread.run_sync(lambda: staged.unlink(missing_ok=True))
            raise
        await anyio.to_thread.run_sync(_sync_file, target.parent)
        return StoredObject(key, size)

    async def move(self, source: str, target: str) -> bool:
        checked_key(source)
        checked_key(target)
        try:
            await anyio.to_thread.run_sync(_rename_into_place, self.root / source, self.root / target)
        except FileNotFoundError:
            return False
        await anyio.to_thread.run_sync(_sync_file, (self.root / target).parent)
        return True


def _flush_and_sync(handle: BinaryIO) -> None:
    handle.flush()
    os.fsync(handle.fileno())


def _rename_into_place(staged: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    os.replace(staged, target)


def _sync_file(path: Path) -> None:
    descriptor = os.open(path, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def _http_endpoint() -> bool:
    endpoint = os.environ.get("AWS_ENDPOINT_URL_S3") or os.environ.get("AWS_ENDPOINT_URL") or ""
    return endpoint.startswith("http://")


class S3Store(_ObstoreBacked):
    """Objects in an S3-compatible bucket (``s3://bucket/prefix``). Endpoint, region and credentials
    come from the usual ``AWS_*`` variables; an ``http://`` endpoint (a test server, a store on the
    same host) is allowed when ``AWS_ENDPOINT_URL`` names one."""

    def __init__(self, url: str) -> None:
        self.url = url
        self._store = ObstoreS3.from_url(url, client_options={"allow_http": _http_endpoint()})
