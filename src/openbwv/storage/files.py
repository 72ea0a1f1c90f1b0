"""A stored object as a read-only, seekable file, for libraries that read files rather than streams
(PyAV probing a clip reads its index and a few frames, not the whole object)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable
from typing import TypeVar

from openbwv.storage.sealing import SealedObjectError
from openbwv.storage.store import ObjectStore

T = TypeVar("T")
# Bytes fetched per read that misses the block held: one sealed chunk.
BLOCK = 1024 * 1024


class StoredFile(io.RawIOBase):
    """The object ``key`` of ``store``, read through ranges of ``block`` bytes, the last one kept.

    It runs its own event loop, so it is for a thread or process with none running (a probe in the
    process pool). Bytes that fail authentication read as ``OSError``, as a damaged disk would."""

    def __init__(self, store: ObjectStore, key: str, *, block: int = BLOCK) -> None:
        super().__init__()
        self._store = store
        self._key = key
        self._block = block
        self._loop = asyncio.new_event_loop()
        self._position = 0
        self._held_start = 0
        self._held = b""
        size = self._run(store.size(key))
        if size is None:
            self._loop.close()
            raise FileNotFoundError(key)
        self._size = size

    def _run(self, work: Awaitable[T]) -> T:
        async def awaited() -> T:
            return await work

        try:
            return self._loop.run_until_complete(awaited())
        except SealedObjectError as exc:
            raise OSError(str(exc)) from exc

    async def _range(self, start: int, end: int) -> bytes:
        return b"".join([piece async for piece in self._store.read(self._key, start, end)])

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._position

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._position, io.SEEK_END: self._size}.get(whence)
        if base is None:
            raise ValueError(f"not a whence: {whence}")
        if base + offset < 0:
            raise OSError(f"cannot seek to {base + offset}: before the start")
        self._position = base + offset
        return self._position

    def readinto(self, buffer: bytearray | memoryview) -> int:  # type: ignore[override]
        if self._position >= self._size or len(buffer) == 0:
            return 0
        held_end = self._held_start + len(self._held)
        if not self._held_start <= self._position < held_end:
            start = self._position - self._position % self._block
            self._held = self._run(self._range(start, min(start + self._block, self._size)))
            self._held_start = start
            held_end = start + len(self._held)
        count = min(len(buffer), held_end - self._position)
        offset = self._position - self._held_start
        buffer[:count] = self._held[offset : offset + count]
        self._position += count
        return count

    def close(self) -> None:
        if not self.closed:
            self._loop.close()
        super().close()
