"""Request bodies read as they stream in, for routes that take large uploads (footage, tus ``PATCH``).

Such a route holds no database session while bytes flow: a camera on a slow link may take minutes
to send a clip, and a connection held all that time would cap the force's concurrent uploads at the
pool's size and starve every other request. The route declares its permission as usual (the caller
is resolved in a short transaction closed before the route runs), does not declare ``Db``, and makes
short service calls through the session factory before and after the body: check the upload, stream
its bytes, then record what arrived.
"""

from __future__ import annotations

import asyncio
import inspect
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import anyio
from fastapi import Depends
from starlette.requests import Request

from openbwv.db import holds_session
from openbwv.errors import TooLarge

# Where the bytes go: a hash's ``update``, a file's ``write``, an object store's multipart part;
# an awaitable result is awaited before the next chunk is read, so a slow sink slows the sender.
Sink = Callable[[bytes], Awaitable[object] | object]

# Threads that sinks run in, apart from the request thread pool so that uploads never keep a sync
# route waiting for a thread; one limiter per event loop, as anyio's limiters belong to one. Hashing
# and writing let go of the GIL, so two keep a second core busy; more would only contend for the GIL
# with the threads that serve sync routes.
SINK_THREADS = 2
_sink_limiters: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, anyio.CapacityLimiter] = (
    weakref.WeakKeyDictionary()
)


def in_a_thread(sink: Callable[[bytes], object]) -> Callable[[bytes], Awaitable[object]]:
    """``sink`` run in a worker thread for each chunk, for sinks that block (a file's ``write``) or
    work over every byte (a hash's ``update``, which lets go of the GIL): the event loop stays free
    to serve other requests while they run."""

    async def run(chunk: bytes) -> object:
        loop = asyncio.get_running_loop()
        limiter = _sink_limiters.get(loop)
        if limiter is None:
            limiter = _sink_limiters[loop] = anyio.CapacityLimiter(SINK_THREADS)
        return await anyio.to_thread.run_sync(sink, chunk, limiter=limiter)

    return run


def caps_its_own_body() -> None:
    """Marks a route that reads its body with :func:`body_chunks` under a limit of its own (a tus
    ``PATCH`` takes up to the rest of a file of many GiB): the request guard then leaves its body
    uncapped by ``OPENBWV_MAX_BODY_MIB``."""


CapsItsOwnBody: Any = Depends(caps_its_own_body)
"""Declared in a route's ``dependencies`` by a route that caps its streamed body itself."""


def _refuse_a_held_session(request: Request) -> None:
    if holds_session(request):
        raise RuntimeError(
            "A route that streams a request body must not declare Db: it would hold a database "
            "connection while the bytes flow. Use short service calls before and after instead."
        )


async def body_chunks(request: Request, *, limit: int) -> AsyncIterator[bytes]:
    """The request body chunk by chunk as it arrives, for a consumer that pulls (an object store's
    ``put``). More than ``limit`` bytes is refused with ``TooLarge`` as soon as the excess arrives; a
    client that drops the connection ends it with starlette's ``ClientDisconnect``. Called from a
    route that declared ``Db`` it refuses to start, as :func:`stream_body` does."""
    _refuse_a_held_session(request)
    received = 0
    async for chunk in request.stream():
        if not chunk:
            continue
        received += len(chunk)
        if received > limit:
            raise TooLarge(f"The request body is larger than {limit} bytes.")
        yield chunk


async def stream_body(request: Request, sink: Sink, *, limit: int) -> int:
    """Hand the request body to ``sink`` chunk by chunk as it arrives and return its length in bytes.

    More than ``limit`` bytes is refused with ``TooLarge`` as soon as the excess arrives, whatever the
    declared length. Called from a route that declared ``Db`` it refuses to start: that route would
    hold a connection for as long as the client takes to send.
    """
    received = 0
    async for chunk in body_chunks(request, limit=limit):
        received += len(chunk)
        result = sink(chunk)
        if inspect.isawaitable(result):
            await result
    return received
