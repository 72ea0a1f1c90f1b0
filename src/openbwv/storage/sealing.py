"""Encryption at rest: every object sealed under its own key, in chunks a byte range can open alone.

An object is stored as a header and then its plaintext in fixed-size chunks, each sealed with
AES-256-GCM::

    header   magic "OBWV" | format version (1 byte) | chunk size (4) | master key id (8)
             | data key wrapped with the master key, AES key wrap (40) | nonce base (8)
    chunk i  ciphertext of plaintext[i*C : (i+1)*C] | tag (16)

Each object has a fresh random 256-bit data key. Chunk ``i`` is sealed with the nonce
``nonce base | i`` and the associated data ``header | i | final``, where ``final`` marks the last
chunk. So a changed byte, a chunk moved within the object or taken from another object, a changed
header or a cut at a chunk boundary each fail authentication. Every chunk but the last holds
exactly ``C`` bytes of plaintext; the last holds 1 to ``C`` (none only for an empty object), so the
plaintext size follows from the stored size.

A composed object (format version 2) is sealed the same way, and its plaintext is a manifest: the
keys and sizes of the objects it is made of, in order (:meth:`SealedStore.compose`). An upload's
parts become a clip this way without their bytes being read or written again; each part keeps its
own data key, and the manifest, sealed, cannot be altered to name other parts unnoticed.
"""

from __future__ import annotations

import hashlib
import json
import os
import struct
from collections.abc import AsyncIterable, AsyncIterator, Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.keywrap import InvalidUnwrap, aes_key_unwrap, aes_key_wrap

from openbwv.storage.store import RawStore, StoredObject

MAGIC = b"OBWV"
FORMAT_VERSION = 1
COMPOSED_VERSION = 2
HEADER = struct.Struct(">4sBI8s40s8s")
CHUNK_LABEL = struct.Struct(">IB")
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 1024 * 1024
MAX_CHUNKS = 2**32


class SealedObjectError(Exception):
    """A stored object that cannot be opened: altered, cut short, or sealed under another key."""


def master_key_id(master_key: bytes) -> bytes:
    """Eight bytes naming a master key in each header, so a wrong key is told apart from damage."""
    return hashlib.sha256(b"openbwv storage master key id\x00" + master_key).digest()[:8]


@dataclass(frozen=True)
class Header:
    chunk_size: int
    key_id: bytes
    wrapped_key: bytes
    nonce_base: bytes
    version: int = FORMAT_VERSION

    def pack(self) -> bytes:
        return HEADER.pack(
            MAGIC, self.version, self.chunk_size, self.key_id, self.wrapped_key, self.nonce_base
        )

    @property
    def composed(self) -> bool:
        return self.version == COMPOSED_VERSION

    @classmethod
    def unpack(cls, key: str, data: bytes) -> Header:
        if len(data) < HEADER.size or data[:4] != MAGIC:
            raise SealedObjectError(f"Object {key!r} is not a sealed object (its header is missing).")
        _magic, version, chunk_size, key_id, wrapped_key, nonce_base = HEADER.unpack(data[: HEADER.size])
        if version not in (FORMAT_VERSION, COMPOSED_VERSION):
            raise SealedObjectError(
                f"Object {key!r} has sealing format {version}, which this version cannot read."
            )
        if chunk_size < 1:
            raise SealedObjectError(f"Object {key!r} has a damaged header (chunk size {chunk_size}).")
        return cls(chunk_size, key_id, wrapped_key, nonce_base, version)


@dataclass(frozen=True)
class Layout:
    """Where an object's chunks lie, from its header and stored size."""

    header: Header
    stored_size: int

    @property
    def sealed_chunk(self) -> int:
        return self.header.chunk_size + TAG_SIZE

    @property
    def chunks(self) -> int:
        body = self.stored_size - HEADER.size
        return max(1, -(-body // self.sealed_chunk))

    @property
    def size(self) -> int:
        return self.stored_size - HEADER.size - self.chunks * TAG_SIZE


class SealedStore:
    """An :class:`ObjectStore` that seals what it writes into ``raw`` and opens what it reads.

    ``master_key`` (32 bytes) wraps each object's data key. ``chunk_size`` is the plaintext per
    chunk for new objects; each object records its own, so it may change between writes.
    """

    def __init__(self, raw: RawStore, master_key: bytes, *, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if len(master_key) != 32:
            raise ValueError("the storage master key must be 32 bytes")
        if not 1 <= chunk_size < 2**32:
            raise ValueError(f"not a chunk size: {chunk_size}")
        self.raw = raw
        self.chunk_size = chunk_size
        self._master_key = master_key
        self._key_id = master_key_id(master_key)

    # Writing ---------------------------------------------------------------------------------

    async def put(self, key: str, chunks: AsyncIterable[bytes]) -> StoredObject:
        return await self._put(key, chunks, FORMAT_VERSION)

    async def _put(self, key: str, chunks: AsyncIterable[bytes], version: int) -> StoredObject:
        data_key = AESGCM.generate_key(bit_length=256)
        header = Header(
            self.chunk_size, self._key_id, aes_key_wrap(self._master_key, data_key), os.urandom(8), version
        ).pack()
        total = [0]
        await self.raw.put(key, self._sealed(header, AESGCM(data_key), chunks, total))
        return StoredObject(key, total[0])

    async def compose(self, key: str, parts: Sequence[str]) -> StoredObject:
        pieces: list[dict[str, str | int]] = []
        total = 0
        for part in parts:
            layout = await self._layout(part)
            if layout is None:
                raise FileNotFoundError(part)
            if layout.header.composed:
                raise ValueError(f"{part!r} is itself composed; a part must hold bytes")
            pieces.append({"key": part, "size": layout.size})
            total += layout.size
        manifest = json.dumps({"parts": pieces}, separators=(",", ":")).encode()
        await self._put(key, _once(manifest), COMPOSED_VERSION)
        return StoredObject(key, total)

    async def _manifest(self, key: str, layout: Layout) -> list[tuple[str, int]]:
        manifest = b"".join([piece async for piece in self._read_sealed(key, layout, 0, None)])
        try:
            return [(str(piece["key"]), int(piece["size"])) for piece in json.loads(manifest)["parts"]]
        except (ValueError, KeyError, TypeError):
            raise SealedObjectError(f"Object {key!r} is composed, but its manifest cannot be read.") from None

    async def move(self, source: str, target: str) -> bool:
        return await self.raw.move(source, target)

    async def constituents(self, key: str) -> list[str]:
        layout = await self._layout(key)
        if layout is None or not layout.header.composed:
            return [key]
        return [key, *(part for part, _size in await self._manifest(key, layout))]

    async def _sealed(
        self, header: bytes, aead: AESGCM, chunks: AsyncIterable[bytes], total: list[int]
    ) -> AsyncIterator[bytes]:
        yield header
        nonce_base = header[-8:]
        size = self.chunk_size
        # A full chunk is sealed only once more bytes follow it, so the last one is known as last.
        # Input that arrives in whole chunks is sealed from views of it, without a copy.
        held: bytes | memoryview | None = None
        partial = bytearray()
        index = 0
        async for chunk in chunks:
            total[0] += len(chunk)
            view = memoryview(chunk)
            while view:
                if held is not None:
                    yield _seal(aead, header, nonce_base, index, held, final=False)
                    held = None
                    index += 1
                if partial or len(view) < size:
                    take = size - len(partial)
                    partial += view[:take]
                    view = view[take:]
                    if len(partial) == size:
                        held = bytes(partial)
                        partial.clear()
                else:
                    held = view[:size]
                    view = view[size:]
        yield _seal(aead, header, nonce_base, index, held if held is not None else bytes(partial), final=True)

    # Reading ---------------------------------------------------------------------------------

    async def _layout(self, key: str) -> Layout | None:
        stored_size = await self.raw.size(key)
        if stored_size is None:
            return None
        head = b"".join([part async for part in self.raw.read(key, 0, HEADER.size)])
        layout = Layout(Header.unpack(key, head), stored_size)
        # The last chunk holds a tag and, unless it is the only one, at least one byte.
        last_chunk = stored_size - HEADER.size - (layout.chunks - 1) * layout.sealed_chunk
        if last_chunk < TAG_SIZE + (layout.chunks > 1):
            raise SealedObjectError(f"Object {key!r} is cut short: its last chunk is incomplete.")
        return layout

    def _data_key(self, key: str, header: Header) -> AESGCM:
        if header.key_id != self._key_id:
            raise SealedObjectError(
                f"Object {key!r} was sealed under master key {header.key_id.hex()}, "
                f"not this store's master key {self._key_id.hex()}."
            )
        try:
            return AESGCM(aes_key_unwrap(self._master_key, header.wrapped_key))
        except InvalidUnwrap:
            raise SealedObjectError(
                f"Object {key!r} has a damaged header: its data key does not unwrap."
            ) from None

    async def read(self, key: str, start: int = 0, end: int | None = None) -> AsyncIterator[bytes]:
        if start < 0 or (end is not None and end < start):
            raise ValueError(f"not a byte range: {start} to {end}")
        layout = await self._layout(key)
        if layout is None:
            raise FileNotFoundError(key)
        if not layout.header.composed:
            async for piece in self._read_sealed(key, layout, start, end):
                yield piece
            return
        position = 0
        for part, size in await self._manifest(key, layout):
            # The range within this part, which holds bytes position to position + size.
            part_start = max(start, position) - position
            part_end = size if end is None else min(end - position, size)
            if part_start < part_end:
                async for piece in self.read(part, part_start, part_end):
                    yield piece
            position += size
            if end is not None and position >= end:
                break

    async def _read_sealed(
        self, key: str, layout: Layout, start: int, end: int | None
    ) -> AsyncIterator[bytes]:
        """The plaintext of the sealed object ``key`` (its own bytes: a manifest, if composed)."""
        aead = self._data_key(key, layout.header)
        size, plain_chunk, sealed_chunk = layout.size, layout.header.chunk_size, layout.sealed_chunk
        end = size if end is None else min(end, size)
        if start >= end and size > 0:
            return
        first = min(start // plain_chunk, layout.chunks - 1)
        last = max(first, (end - 1) // plain_chunk)
        header = layout.header.pack()
        nonce_base = layout.header.nonce_base
        offset = HEADER.size + first * sealed_chunk
        stop = min(HEADER.size + (last + 1) * sealed_chunk, layout.stored_size)
        # Only the chunks the range touches are fetched and opened.
        pending = bytearray()
        index = first
        position = first * plain_chunk
        async for part in self.raw.read(key, offset, stop):
            pending += part
            while len(pending) >= sealed_chunk or (index == last and len(pending) == stop - offset):
                take = min(sealed_chunk, len(pending))
                final = index == layout.chunks - 1
                plain = _open(aead, key, header, nonce_base, index, bytes(pending[:take]), final=final)
                del pending[:take]
                offset += take
                piece = plain[max(0, start - position) : max(0, end - position)]
                position += len(plain)
                index += 1
                if piece:
                    yield piece
                if index > last:
                    break
        if index <= last:
            raise SealedObjectError(f"Object {key!r} is cut short: chunk {index} is incomplete.")

    async def size(self, key: str) -> int | None:
        layout = await self._layout(key)
        if layout is None or not layout.header.composed:
            return None if layout is None else layout.size
        return sum(size for _part, size in await self._manifest(key, layout))

    async def delete(self, key: str) -> None:
        """Delete the object; a composed one's parts first, so a delete cut short leaves a manifest
        naming what is left (found by the storage check, finished by deleting again)."""
        try:
            constituents = await self.constituents(key)
        except SealedObjectError:
            constituents = [key]
        for part in constituents[1:]:
            await self.raw.delete(part)
        await self.raw.delete(key)

    def keys(self, prefix: str = "") -> AsyncIterator[str]:
        return self.raw.keys(prefix)


async def _once(data: bytes) -> AsyncIterator[bytes]:
    yield data


def _associated(header: bytes, index: int, final: bool) -> bytes:
    return header + CHUNK_LABEL.pack(index, final)


def _seal(
    aead: AESGCM, header: bytes, nonce_base: bytes, index: int, plain: bytes | memoryview, *, final: bool
) -> bytes:
    if index >= MAX_CHUNKS:
        raise ValueError("object too large for its chunk size")
    nonce = nonce_base + index.to_bytes(4, "big")
    return aead.encrypt(nonce, plain, _associated(header, index, final))


def _open(
    aead: AESGCM, key: str, header: bytes, nonce_base: bytes, index: int, sealed: bytes, *, final: bool
) -> bytes:
    nonce = nonce_base + index.to_bytes(4, "big")
    try:
        return aead.decrypt(nonce, sealed, _associated(header, index, final))
    except InvalidTag:
        raise SealedObjectError(
            f"Object {key!r} is damaged: chunk {index} fails authentication "
            "(its bytes were altered, cut short, reordered or taken from another object)."
        ) from None
