"""The object store every domain writes bytes through.

Keys are relative paths (``clips/ab/abcdef…``, ``uploads/42/000000000000``). A write is atomic: an
object is visible under its key only once all its bytes are stored, so a crash mid-write leaves
nothing under that key. Reads may ask for a byte range. Routes call the store with no database
session open: bytes may take minutes to flow.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterable, AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

import anyio

from openbwv.config import Settings

READ_CHUNK = 1024 * 1024


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class ObjectStore(Protocol):
    """Bytes by key, written atomically and read whole or by range."""

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        """Store ``chunks`` under ``key``, replacing any object there, visible only once complete."""
        ...

    def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        """The object's bytes from ``start`` up to ``end`` (exclusive; None: to the end).

        Raises ``FileNotFoundError`` when there is no such object."""
        ...

    async def size(self, key: str) -> int | None:
        """The object's size in bytes, or None when there is no such object."""
        ...

    async def delete(self, key: str) -> None:
        """Remove the object; removing one that is not there is not an error."""
        ...

    def keys(self, prefix: str = "") -> AsyncIterator[str]:
        """Every key that starts with ``prefix``."""
        ...


def _checked_key(key: str) -> str:
    parts = key.split("/")
    if not key or key.startswith("/") or any(part in ("", ".", "..") for part in parts):
        raise ValueError(f"not an object key: {key!r}")
    return key


class LocalStore:
    """Objects as files under ``root``: written to a temporary file, synced, then renamed."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def _path(self, key: str) -> Path:
        return self.root / _checked_key(key)

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.parent.mkdir(parents=True, exist_ok=True))
        temporary = path.with_name(f".{path.name}.{uuid.uuid4().hex}.part")
        size = 0
        try:
            async with await anyio.open_file(temporary, "wb") as handle:
                async for chunk in chunks:
                    await handle.write(chunk)
                    size += len(chunk)
                await handle.flush()
                await anyio.to_thread.run_sync(os.fsync, handle.wrapped.fileno())
            await anyio.to_thread.run_sync(os.replace, temporary, path)
        except BaseException:
            await anyio.to_thread.run_sync(lambda: temporary.unlink(missing_ok=True))
            raise
        return StoredObject(key, size)

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        path = self._path(key)
        async with await anyio.open_file(path, "rb") as handle:
            await handle.seek(start)
            remaining = None if end is None else max(0, end - start)
            while remaining is None or remaining > 0:
                chunk = await handle.read(READ_CHUNK if remaining is None else min(READ_CHUNK, remaining))
                if not chunk:
                    return
                if remaining is not None:
                    remaining -= len(chunk)
                yield chunk

    async def size(self, key: str) -> int | None:
        path = self._path(key)
        try:
            return (await anyio.to_thread.run_sync(path.stat)).st_size
        except FileNotFoundError:
            return None

    async def delete(self, key: str) -> None:
        path = self._path(key)
        await anyio.to_thread.run_sync(lambda: path.unlink(missing_ok=True))

    async def keys(self, prefix: str = "") -> AsyncIterator[str]:
        def listing() -> list[str]:
            if not self.root.exists():
                return []
            found = []
            for path in self.root.rglob("*"):
                if path.is_file() and not path.name.startswith("."):
                    key = path.relative_to(self.root).as_posix()
                    if key.startswith(prefix):
                        found.append(key)
            return sorted(found)

        for key in await anyio.to_thread.run_sync(listing):
            yield key


def open_store(settings: Settings) -> ObjectStore:
    """The store ``OPENBWV_STORAGE_URL`` names (default: a folder in the data directory)."""
    url = urlparse(settings.resolved_storage_url)
    if url.scheme == "file":
        return LocalStore(Path(unquote(url.path)))
    raise NotImplementedError(f"storage scheme {url.scheme!r} is not available yet")


def store_of(app_state: object) -> ObjectStore:
    """The application's store, opened from its settings on first use and kept on ``app.state``."""
    store: ObjectStore | None = getattr(app_state, "store", None)
    if store is None:
        store = open_store(app_state.settings)  # type: ignore[attr-defined]
        app_state.store = store  # type: ignore[attr-defined]
    return store
