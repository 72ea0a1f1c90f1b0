"""HTTP byte ranges (RFC 9110 section 14) for routes that answer stored objects in parts: a video
player asks for the part it is about to play, and the store reads only the chunks that part touches."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPEC = re.compile(r"^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$", re.IGNORECASE)


@dataclass(frozen=True)
class ByteRange:
    """Bytes ``start`` up to ``end`` (exclusive) of an object of ``size`` bytes."""

    start: int
    end: int
    size: int

    @property
    def length(self) -> int:
        return self.end - self.start

    @property
    def content_range(self) -> str:
        return f"bytes {self.start}-{self.end - 1}/{self.size}"


class UnsatisfiableRange(ValueError):
    """A range none of whose bytes the object has: answered 416 with ``Content-Range: bytes */size``."""


def requested_range(header: str | None, size: int) -> ByteRange | None:
    """The one range a ``Range`` header asks of an object of ``size`` bytes; None for the whole
    object (no header, another unit, several ranges or a malformed one, which RFC 9110 lets a server
    ignore). ``UnsatisfiableRange`` when it starts past the end."""
    if not header:
        return None
    match = _SPEC.match(header)
    if match is None:
        return None
    first, last = match.groups()
    if not first and not last:
        return None
    if not first:
        # The last N bytes.
        suffix = int(last)
        if suffix == 0 or size == 0:
            raise UnsatisfiableRange(header)
        return ByteRange(max(0, size - suffix), size, size)
    start = int(first)
    end = size if not last else min(int(last) + 1, size)
    if last and int(last) < start:
        return None
    if start >= size:
        raise UnsatisfiableRange(header)
    return ByteRange(start, end, size)
