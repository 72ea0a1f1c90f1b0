"""The object store every domain writes bytes through.

Keys are relative paths (``clips/ab/abcdef…``, ``uploads/42/000000000000``). A write is atomic: an
object is visible under its key only once all its bytes are stored, so a crash mid-write leaves
nothing under that key. Reads may ask for a byte range. Routes call the store with no database
session open: bytes may take minutes to flow.

:func:`open_store` gives the store the settings name: local disk or an S3-compatible bucket
(:mod:`openbwv.storage.backends`), with every object encrypted at rest
(:mod:`openbwv.storage.sealing`). Sizes and ranges are always of the plaintext.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol
from urllib.parse import unquote, urlparse

from openbwv.config import ConfigError, Settings


@dataclass(frozen=True)
class StoredObject:
    key: str
    size: int


class RawStore(Protocol):
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

    async def move(self, source: str, target: str) -> bool:
        """Put the object under ``source`` under ``target`` instead, without reading it through
        this process. False when there is nothing under ``source`` (moved before, perhaps)."""
        ...


class ObjectStore(RawStore, Protocol):
    """The store the domains use: a :class:`RawStore` that can also compose objects from others."""

    async def compose(self, key: str, parts: Sequence[str]) -> StoredObject:
        """Make ``key`` the concatenation of the objects ``parts``, in order, without copying
        their bytes: reads of ``key`` (whole or by range) read the parts, and deleting ``key``
        deletes them. The parts are then the object's, under no other name."""
        ...

    async def constituents(self, key: str) -> list[str]:
        """The keys of the stored objects that make up ``key``: itself, and its parts if composed."""
        ...


def checked_key(key: str) -> str:
    """``key`` when it is a relative path of plain segments outside the reserved ``.staging/``."""
    parts = key.split("/")
    if (
        not key
        or key.startswith("/")
        or any(part in ("", ".", "..") for part in parts)
        or parts[0] == ".staging"
    ):
        raise ValueError(f"not an object key: {key!r}")
    return key


def open_store(settings: Settings) -> ObjectStore:
    """The store ``OPENBWV_STORAGE_URL`` names (default: a folder in the data directory), sealing
    every object under the storage master key."""
    from openbwv.storage.backends import LocalStore, S3Store
    from openbwv.storage.sealing import SealedStore

    url = urlparse(settings.resolved_storage_url)
    raw: RawStore
    if url.scheme == "file":
        raw = LocalStore(Path(unquote(url.path)))
    elif url.scheme == "s3":
        if not url.netloc:
            raise ConfigError(
                "OPENBWV_STORAGE_URL is invalid: an s3:// URL names a bucket (s3://bucket/prefix)."
            )
        raw = S3Store(settings.resolved_storage_url)
    else:
        raise ConfigError(f"OPENBWV_STORAGE_URL is invalid: the scheme {url.scheme!r} is not supported.")
    return SealedStore(raw, settings.resolved_storage_master_key)


def store_of(app_state: object) -> ObjectStore:
    """The application's store, opened from its settings on first use and kept on ``app.state``."""
    store: ObjectStore | None = getattr(app_state, "store", None)
    if store is None:
        store = open_store(app_state.settings)  # type: ignore[attr-defined]
        app_state.store = store  # type: ignore[attr-defined]
    return store
