"""An object's bytes on their way into the object store: hashed as they stream, checked against the
system's ``ETag``, and stored atomically only when the whole body arrived and matched.

No database session is open here: the route makes short service calls before and after.
"""

from __future__ import annotations

import errno
import hashlib
import shutil
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import anyio
from starlette.requests import Request

from openbwv.axis.service import Busy, InsufficientStorage
from openbwv.errors import InvalidInput
from openbwv.storage import ObjectStore
from openbwv.web.streams import in_a_thread, stream_body

# Keep this much free on a local disk after an upload; less, and uploads answer 507.
FREE_SPACE_RESERVE = 256 * 1024 * 1024
# Swift's largest single object.
MAX_OBJECT_BYTES = 5 * 1024**3
# Chunks waiting between the request body and the store.
BUFFERED_CHUNKS = 4


@dataclass(frozen=True)
class Received:
    size: int
    md5: str
    sha256: str


class ChecksumMismatch(InvalidInput):
    """422, as Swift answers when the body's MD5 is not the ``ETag`` the client sent."""

    def __init__(self) -> None:
        super().__init__("etag", "does not match the MD5 of the body received")


async def receive_object(
    request: Request, store: ObjectStore, key: str, *, expected_md5: str | None, limit: int
) -> Received:
    """Stream the request body into ``store`` under ``key``, hashing it (MD5 and SHA-256) in one pass.

    Nothing lands under ``key`` unless every byte arrived and the MD5 matches ``expected_md5``: the
    store's write is atomic, and a failure (a short body, a body over ``limit``, a mismatch) is
    raised inside it."""
    md5 = hashlib.md5(usedforsecurity=False)
    sha256 = hashlib.sha256()

    def digest(chunk: bytes) -> None:
        md5.update(chunk)
        sha256.update(chunk)

    hashing = in_a_thread(digest)
    send, receive = anyio.create_memory_object_stream[bytes](BUFFERED_CHUNKS)
    failure: list[BaseException] = []
    received: list[int] = []

    async def forward(chunk: bytes) -> None:
        await hashing(chunk)
        await send.send(chunk)

    async def feed() -> None:
        try:
            received.append(await stream_body(request, forward, limit=limit))
        except anyio.get_cancelled_exc_class():
            raise
        except Exception as exc:
            # Told to the store's side, which raises it inside the write so nothing is kept.
            failure.append(exc)
        finally:
            send.close()

    async def chunks() -> AsyncIterator[bytes]:
        with receive:
            async for chunk in receive:
                yield chunk
        if failure:
            raise failure[0]
        if expected_md5 is not None and md5.hexdigest() != expected_md5:
            raise ChecksumMismatch()

    refused: list[Exception] = []
    async with anyio.create_task_group() as group:
        group.start_soon(feed)
        try:
            stored = await store.put(key, chunks())
        except Exception as exc:
            # Raised once the group is done, not from inside it, where it would come out wrapped.
            refused.append(exc)
            group.cancel_scope.cancel()
    if refused:
        problem = refused[0]
        if isinstance(problem, OSError) and problem.errno in (errno.ENOSPC, errno.EDQUOT):
            raise InsufficientStorage("The content destination is out of disk space.") from problem
        raise problem
    return Received(
        size=received[0] if received else stored.size, md5=md5.hexdigest(), sha256=sha256.hexdigest()
    )


def check_free_space(store: ObjectStore, declared_length: int | None) -> None:
    """Refuse with 507 an upload a local store's disk has no room for (other stores keep their own
    accounts, and the quota covers them)."""
    root = getattr(store, "root", None)
    if not isinstance(root, Path):
        return
    probe = root
    while not probe.exists() and probe != probe.parent:
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    if free - (declared_length or 0) < FREE_SPACE_RESERVE:
        raise InsufficientStorage("The content destination is out of disk space.")


@dataclass
class UploadSlots:
    """Uploads in flight in this process; past ``limit`` a new one is told to come back (503)."""

    limit: int
    in_flight: int = field(default=0)

    @contextmanager
    def taken(self) -> Iterator[None]:
        if self.in_flight >= self.limit:
            raise Busy("Too many uploads at once; try again shortly.")
        self.in_flight += 1
        try:
            yield
        finally:
            self.in_flight -= 1


def upload_slots(app_state: object, limit: int) -> UploadSlots:
    """The app's upload slots, made on first use and kept on ``app.state``."""
    slots: UploadSlots | None = getattr(app_state, "axis_upload_slots", None)
    if slots is None:
        slots = UploadSlots(limit)
        app_state.axis_upload_slots = slots  # type: ignore[attr-defined]
    return slots


def expected_md5(etag: str | None) -> str | None:
    """The MD5 a Swift client states in its ``ETag`` header, quotes removed, or None."""
    if etag is None or not etag.strip():
        return None
    value = etag.strip().strip('"').lower()
    if len(value) != 32 or any(c not in "0123456789abcdef" for c in value):
        raise InvalidInput("etag", "must be the MD5 of the body as 32 hexadecimal digits")
    return value
