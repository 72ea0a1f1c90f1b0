"""A server that speaks just enough tus to take uploads and throws their bytes away: the ceiling the
HTTP transport alone sets on this machine, for the ingest benchmark to stand beside. Run by
``uvicorn bench.discard:app``, as ``openbwv serve`` runs the real one."""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
_ids = itertools.count(1)


async def app(
    scope: Message, receive: Callable[[], Awaitable[Message]], send: Callable[[Message], Awaitable[None]]
) -> None:
    if scope["type"] != "http":
        return
    headers = {key.decode().lower(): value.decode() for key, value in scope["headers"]}
    received = 0
    while True:
        message = await receive()
        received += len(message.get("body", b""))
        if not message.get("more_body"):
            break
    if scope["method"] == "POST":
        answer = [(b"location", f"http://{headers['host']}/api/v1/uploads/{next(_ids)}".encode())]
        status = 201
    else:
        offset = int(headers.get("upload-offset", "0")) + received
        answer = [(b"upload-offset", str(offset).encode())]
        status = 204
    await send(
        {"type": "http.response.start", "status": status, "headers": [(b"tus-resumable", b"1.0.0"), *answer]}
    )
    await send({"type": "http.response.body", "body": b""})
