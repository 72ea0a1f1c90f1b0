"""tus 1.0.0, the resumable upload protocol: its headers, its refusals and a route class that puts
``Tus-Resumable`` on every answer, refusals included (https://tus.io/protocols/resumable-upload)."""

from __future__ import annotations

import base64
import binascii
import email.utils
import hashlib
from collections.abc import Callable, Coroutine
from datetime import datetime
from typing import Any

from fastapi.routing import APIRoute
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openbwv.errors import OpenbwvError, TooLarge

TUS_VERSION = "1.0.0"
EXTENSIONS = ("creation", "creation-with-upload", "termination", "expiration", "checksum")
# sha1 because the checksum extension requires every server to support it; sha256 for docks that
# already compute it.
CHECKSUM_ALGORITHMS = ("sha1", "sha256")
OFFSET_STREAM = "application/offset+octet-stream"
_DIGEST_SIZES = {"sha1": 20, "sha256": 32}


class TusError(OpenbwvError):
    """A protocol refusal; ``headers`` go on the answer."""

    headers: dict[str, str] = {}


class BadRequest(TusError):
    status_code = 400


class Gone(TusError):
    status_code = 410

    def __init__(self) -> None:
        super().__init__("This upload was terminated or has expired; start a new one.")


class VersionUnsupported(TusError):
    status_code = 412
    headers = {"Tus-Version": TUS_VERSION}

    def __init__(self) -> None:
        super().__init__(f"Send Tus-Resumable: {TUS_VERSION}; no other version of tus is served.")


class NotOffsetStream(TusError):
    status_code = 415

    def __init__(self) -> None:
        super().__init__(f"A PATCH must have Content-Type: {OFFSET_STREAM}.")


class ChecksumMismatch(TusError):
    """460, the checksum extension's code: the bytes are not those the client hashed; none are kept."""

    status_code = 460

    def __init__(self, algorithm: str) -> None:
        super().__init__(f"The bytes received do not match Upload-Checksum ({algorithm}); none were kept.")


class TusRoute(APIRoute):
    """Answers every request, refused or not, with ``Tus-Resumable``, and a refusal with its headers."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def tus_handler(request: Request) -> Response:
            try:
                response = await handler(request)
            except OpenbwvError as exc:
                render = request.app.exception_handlers.get(OpenbwvError)
                if render is None:
                    response = JSONResponse({"detail": exc.detail}, status_code=exc.status_code)
                else:
                    response = await render(request, exc)
                if isinstance(exc, TusError):
                    response.headers.update(exc.headers)
            response.headers["Tus-Resumable"] = TUS_VERSION
            return response

        return tus_handler


def check_version(request: Request) -> None:
    """Refuse a request that does not speak tus 1.0.0 (every request but OPTIONS must say it does)."""
    if request.headers.get("tus-resumable", "").strip() != TUS_VERSION:
        raise VersionUnsupported()


def _whole_number(request: Request, header: str) -> int | None:
    raw = request.headers.get(header)
    if raw is None:
        return None
    raw = raw.strip()
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise BadRequest(f"{header} must be a whole number of bytes.")
    return int(raw)


def upload_length(request: Request, *, max_size: int) -> int:
    """The file's length in bytes from ``Upload-Length``, at most ``max_size``."""
    if request.headers.get("upload-defer-length") is not None:
        raise BadRequest("Upload-Defer-Length is not supported: give Upload-Length.")
    length = _whole_number(request, "Upload-Length")
    if length is None:
        raise BadRequest("Give the file's size in bytes as Upload-Length.")
    if length > max_size:
        raise TooLarge(f"The file is larger than Tus-Max-Size, {max_size} bytes.")
    return length


def upload_offset(request: Request) -> int:
    """Where the client says its bytes start, from ``Upload-Offset``."""
    offset = _whole_number(request, "Upload-Offset")
    if offset is None:
        raise BadRequest("Give the offset the bytes start at as Upload-Offset.")
    return offset


def is_offset_stream(request: Request) -> bool:
    media_type = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    return media_type == OFFSET_STREAM


def declared_length(request: Request) -> int | None:
    """The body's ``Content-Length``, when the client declared one."""
    return _whole_number(request, "Content-Length")


class Checksum:
    """An ``Upload-Checksum``: the algorithm, the digest the client sent, and a hash of what arrives."""

    def __init__(self, algorithm: str, expected: bytes) -> None:
        self.algorithm = algorithm
        self.expected = expected
        self.hash = hashlib.new(algorithm)

    def matches(self) -> bool:
        return self.hash.digest() == self.expected


def upload_checksum(request: Request) -> Checksum | None:
    """The request's ``Upload-Checksum``, or None; an algorithm not served is refused with 400."""
    raw = request.headers.get("upload-checksum")
    if raw is None:
        return None
    algorithm, _, encoded = raw.strip().partition(" ")
    algorithm = algorithm.lower()
    if algorithm not in CHECKSUM_ALGORITHMS:
        raise BadRequest(
            f"Upload-Checksum's algorithm must be one of {', '.join(CHECKSUM_ALGORITHMS)}, not {algorithm[:20]!r}."
        )
    try:
        expected = base64.b64decode(encoded.strip(), validate=True)
    except (binascii.Error, ValueError):
        expected = b""
    if len(expected) != _DIGEST_SIZES[algorithm]:
        raise BadRequest(f"Upload-Checksum must give the {algorithm} digest in base64.")
    return Checksum(algorithm, expected)


def http_date(at: datetime) -> str:
    """``at`` as an HTTP date, the form of ``Upload-Expires``."""
    return email.utils.format_datetime(at, usegmt=True)
