"""The bytes of a PATCH: streamed into the object store and hashed as they arrive, with no database
session held; short transactions before (may bytes go here?) and after (record them).

The whole file's SHA-256 is computed in one pass over the bytes as they arrive. Each process keeps a
running hash per upload it is receiving, keyed by the offset it has reached; a PATCH at an offset this
process holds no hash for (the upload moved here from another process, or the process restarted)
rebuilds it by reading the earlier parts back from the store, the one time bytes are read twice.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, TypeVar

import anyio
from sqlalchemy.orm import Session, sessionmaker
from starlette.requests import ClientDisconnect, Request

from openbwv import clock
from openbwv.db import get_session_factory, transaction
from openbwv.errors import OpenbwvError, TooLarge
from openbwv.policy import Actor
from openbwv.storage import ObjectStore, store_of
from openbwv.uploads import service
from openbwv.uploads.models import Upload
from openbwv.uploads.protocol import BadRequest, Checksum, ChecksumMismatch, declared_length
from openbwv.web.streams import body_chunks, in_a_thread

log = logging.getLogger(__name__)

# Bytes are hashed and written in blocks of this size: one thread hop per block, not per network read.
BLOCK = 1024 * 1024
# Running hashes kept per process; one costs a few hundred bytes, and one evicted is only rebuilt.
HASHERS_KEPT = 4096

T = TypeVar("T")


class RunningHashes:
    """Whole-file SHA-256 states of the uploads this process is receiving: for each, the offset its
    state has reached. The most recently used are kept."""

    def __init__(self, capacity: int = HASHERS_KEPT) -> None:
        self._capacity = capacity
        self._states: OrderedDict[str, tuple[int, Any]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, upload_id: str, offset: int) -> Any | None:
        """A copy of the hash of the upload's first ``offset`` bytes, if this process holds it."""
        with self._lock:
            held = self._states.get(upload_id)
            if held is None or held[0] != offset:
                return None
            self._states.move_to_end(upload_id)
            return held[1].copy()

    def put(self, upload_id: str, offset: int, state: Any) -> None:
        with self._lock:
            self._states[upload_id] = (offset, state)
            self._states.move_to_end(upload_id)
            while len(self._states) > self._capacity:
                self._states.popitem(last=False)

    def forget(self, upload_id: str) -> None:
        with self._lock:
            self._states.pop(upload_id, None)


def running_hashes_of(app_state: Any) -> RunningHashes:
    hashes: RunningHashes | None = getattr(app_state, "upload_hashes", None)
    if hashes is None:
        hashes = app_state.upload_hashes = RunningHashes()
    return hashes


@dataclass(frozen=True)
class Received:
    length: int
    sha256: str
    whole: Any
    disconnected: bool


async def _in_thread(work: Callable[[], T]) -> T:
    return await anyio.to_thread.run_sync(work)


async def rebuild_hash(store: ObjectStore, keys: tuple[str, ...], *, expected_length: int) -> Any:
    """The SHA-256 of the parts under ``keys``, read back in order: the rare path."""
    whole = hashlib.sha256()
    update = in_a_thread(whole.update)
    length = 0
    for key in keys:
        async for chunk in store.read(key):
            length += len(chunk)
            await update(chunk)
    if length != expected_length:
        raise RuntimeError(f"the stored parts hold {length} bytes where the upload records {expected_length}")
    return whole


async def _stream_part(
    request: Request, store: ObjectStore, key: str, *, limit: int, whole: Any, checksum: Checksum | None
) -> Received:
    """Store the body under ``key``, hashing it on the way; nothing is stored if the checksum fails
    or the body is too long. A dropped connection keeps what arrived, unless a checksum was given
    (then nothing can be checked, and nothing is kept)."""
    part = hashlib.sha256()
    extra = checksum.hash if checksum is not None and checksum.algorithm != "sha256" else None

    def update(block: bytes) -> None:
        part.update(block)
        whole.update(block)
        if extra is not None:
            extra.update(block)

    hash_block = in_a_thread(update)
    received = 0
    disconnected = False

    async def blocks() -> AsyncIterator[bytes]:
        nonlocal received, disconnected
        pieces: list[bytes] = []
        buffered = 0
        try:
            async for chunk in body_chunks(request, limit=limit):
                pieces.append(chunk)
                buffered += len(chunk)
                if buffered >= BLOCK:
                    block = b"".join(pieces)
                    pieces.clear()
                    buffered = 0
                    await hash_block(block)
                    received += len(block)
                    yield block
        except ClientDisconnect:
            if checksum is not None:
                raise
            disconnected = True
        if pieces:
            block = b"".join(pieces)
            await hash_block(block)
            received += len(block)
            yield block
        if checksum is not None:
            digest = part.digest() if checksum.algorithm == "sha256" else checksum.hash.digest()
            if digest != checksum.expected:
                raise ChecksumMismatch(checksum.algorithm)

    try:
        await store.put(key, blocks())
    except ClientDisconnect:
        raise BadRequest(
            "The connection dropped before the checksum could be checked; nothing was kept."
        ) from None
    return Received(length=received, sha256=part.hexdigest(), whole=whole, disconnected=disconnected)


async def append(
    request: Request, actor: Actor, upload_id: str, *, offset: int, checksum: Checksum | None
) -> Upload:
    """Append the request's body to the upload at ``offset`` and answer the upload as it now stands.

    The bytes are stored as a new object first, then recorded with the offset moved past them in one
    transaction: an answered PATCH is durable, and a crash in between leaves only an unreferenced
    object. The loser of two PATCHes at one offset gets 409 and its object is deleted.
    """
    factory: sessionmaker[Session] = get_session_factory(request)
    store = store_of(request.app.state)
    settings = request.app.state.settings
    expiry = timedelta(hours=settings.upload_expiry_hours)
    hashes = running_hashes_of(request.app.state)

    held = hashes.get(upload_id, offset)

    def check() -> service.PatchTicket:
        with transaction(factory) as db:
            return service.check_patch(
                db, actor, upload_id, offset=offset, now=clock.now(), with_parts=held is None
            )

    ticket = await _in_thread(check)
    whole = held
    if whole is None:
        whole = await rebuild_hash(store, ticket.parts, expected_length=ticket.offset)
    remaining = ticket.length - ticket.offset
    declared = declared_length(request)
    if declared is not None and declared > remaining:
        raise TooLarge(f"The upload has {remaining} bytes left to send; this body declares {declared}.")

    key = service.new_part_key(upload_id, offset)
    received = await _stream_part(request, store, key, limit=remaining, whole=whole, checksum=checksum)
    if received.length == 0:
        await store.delete(key)

        def unchanged() -> Upload:
            with transaction(factory) as db:
                return service.status_of(db, actor, upload_id, now=clock.now())

        return await _in_thread(unchanged)

    def record() -> Upload:
        with transaction(factory) as db:
            return service.record_part(
                db,
                actor,
                upload_id,
                offset=offset,
                length=received.length,
                key=key,
                sha256=received.sha256,
                received_sha256=received.whole.hexdigest(),
                now=clock.now(),
                expiry=expiry,
            )

    try:
        upload = await _in_thread(record)
    except OpenbwvError:
        # Refused and rolled back (a racing PATCH won this offset, or the upload ended meanwhile):
        # these bytes are nobody's.
        await store.delete(key)
        raise
    if upload.offset == upload.length:
        hashes.forget(upload_id)
        await delete_unrecorded(factory, store, upload_id=upload_id)
    else:
        hashes.put(upload_id, upload.offset, received.whole)
    if received.disconnected:
        log.info(
            "upload %s: connection dropped; kept %d bytes, now at %d",
            upload_id,
            received.length,
            upload.offset,
        )
    return upload


async def delete_unrecorded(
    factory: sessionmaker[Session], store: ObjectStore, *, upload_id: str | None = None
) -> int:
    """Delete the objects under ``uploads/`` that no part names and no upload will record (a request
    killed between storing its bytes and recording them leaves one): those of ``upload_id``, just
    completed, or of every upload no longer receiving. How many were deleted."""
    prefix = service.upload_prefix(upload_id) if upload_id is not None else "uploads/"
    keys = [key async for key in store.keys(prefix)]
    if not keys:
        return 0

    def unrecorded() -> list[str]:
        with transaction(factory) as db:
            return service.unrecorded_objects(db, keys, upload_id=upload_id)

    stray = await _in_thread(unrecorded)
    for key in stray:
        await store.delete(key)
    if stray:
        log.info("deleted %d object(s) under uploads/ that no part names", len(stray))
    return len(stray)


async def delete_objects(store: ObjectStore, upload_ids: list[str], keys: list[str]) -> None:
    """Delete the parts ``keys`` of uploads that ended unfinished, then any other object left under
    those uploads' prefixes (bytes stored by a request that died before it recorded them)."""
    for key in keys:
        await store.delete(key)
    ended = set(upload_ids)
    async for key in store.keys("uploads/"):
        if key.split("/")[1] in ended:
            await store.delete(key)
