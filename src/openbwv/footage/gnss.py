"""GNSS tracks delivered beside a clip rather than inside it: the Axis body worn system's location
object (``…_gpstrail.json``), one per recording.

The format, as the Axis Body Worn Integration API describes it::

    {"CoordinateEntries": [
        {"LocationWKT": "POINT(13.221184 55.718409)", "SecondsFromStart": 64.0,
         "Timestamp": "2022-08-23T11:48:10Z"}, …]}

``LocationWKT`` is a WKT point, longitude first; ``SecondsFromStart`` counts from the recording's
start (which may precede its trigger time, with pre-buffer); ``Timestamp`` is RFC 3339 UTC. A
recording's track covers all its clips, so each clip keeps the fixes timed within its own start and
stop, placed by ``Timestamp`` as seconds from the clip's start: the shape ``Clip.gps_track`` holds.
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import anyio

from openbwv.storage import ObjectStore

# A recording's track is a few hundred bytes a minute; anything this large is not one.
MAX_TRACK_BYTES = 16 * 1024 * 1024
_POINT = re.compile(r"^\s*POINT\s*\(\s*(\S+)\s+(\S+)\s*\)\s*$", re.IGNORECASE)


class InvalidTrack(ValueError):
    """The bytes are not a GNSS track in the format above; the message says where and why."""


@dataclass(frozen=True)
class Fix:
    """One position at one moment."""

    at: datetime
    latitude: float
    longitude: float


def parse_track(data: bytes) -> list[Fix]:
    """The fixes of a location object, in time order; ``InvalidTrack`` for anything else."""
    if len(data) > MAX_TRACK_BYTES:
        raise InvalidTrack(f"the track is more than {MAX_TRACK_BYTES} bytes")
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise InvalidTrack(f"the track is not JSON: {exc}"[:200]) from None
    entries = document.get("CoordinateEntries") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise InvalidTrack("the track has no CoordinateEntries list")
    fixes = [_fix(n, entry) for n, entry in enumerate(entries)]
    return sorted(fixes, key=lambda fix: fix.at)


def _fix(n: int, entry: Any) -> Fix:
    if not isinstance(entry, dict):
        raise InvalidTrack(f"entry {n} is not an object")
    point = _POINT.match(str(entry.get("LocationWKT") or ""))
    if point is None:
        raise InvalidTrack(f"entry {n}: LocationWKT is not a WKT point: {entry.get('LocationWKT')!r:.80}")
    try:
        longitude, latitude = float(point.group(1)), float(point.group(2))
    except ValueError:
        raise InvalidTrack(f"entry {n}: LocationWKT's coordinates are not numbers") from None
    if not (math.isfinite(latitude) and math.isfinite(longitude)):
        raise InvalidTrack(f"entry {n}: LocationWKT's coordinates are not finite")
    if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
        raise InvalidTrack(f"entry {n}: ({longitude}, {latitude}) is not a longitude and latitude")
    stamp = entry.get("Timestamp")
    try:
        at = datetime.fromisoformat(str(stamp).strip().replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        raise InvalidTrack(f"entry {n}: Timestamp is not an RFC 3339 time: {stamp!r:.80}") from None
    at = at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
    return Fix(at=at, latitude=latitude, longitude=longitude)


def clip_track(fixes: list[Fix], *, start: datetime, stop: datetime | None) -> list[list[float]] | None:
    """The fixes timed from ``start`` up to ``stop`` (to the end when the clip's stop is not known),
    as ``[[seconds from start, latitude, longitude], …]``; None when none fall within."""
    kept = [
        [round((fix.at - start).total_seconds(), 3), fix.latitude, fix.longitude]
        for fix in fixes
        if fix.at >= start and (stop is None or fix.at < stop)
    ]
    return kept or None


@dataclass(frozen=True)
class DeliveredTrack:
    """A clip's stretch of the track delivered beside it, or why the track could not be read."""

    gps_track: list[list[float]] | None = None
    error: str | None = None


async def _read_small(store: ObjectStore, key: str) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in store.read(key):
        size += len(chunk)
        if size > MAX_TRACK_BYTES:
            raise InvalidTrack(f"the track is more than {MAX_TRACK_BYTES} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def read_clip_track(
    store: ObjectStore, key: str, *, start: datetime, stop: datetime | None
) -> DeliveredTrack:
    """The track stored under ``key``, cut to the clip from ``start`` to ``stop``. A track that is
    missing or cannot be read is no reason to fail the clip: the answer says why instead."""
    try:
        fixes = parse_track(anyio.run(_read_small, store, key))
    except FileNotFoundError:
        return DeliveredTrack(error="the track object is not in the store")
    except InvalidTrack as exc:
        return DeliveredTrack(error=str(exc))
    return DeliveredTrack(gps_track=clip_track(fixes, start=start, stop=stop))
