"""The map's server-sent events: every camera's state when a browser connects, then what changed.

Every :data:`POLL_SECONDS` a stream looks at every camera's state through one read the process's
streams share (:class:`SharedMapRead`, at most one every half poll) and sends the cameras that
differ from what it last sent (a newer message, or a camera gone quiet). The read is of the
process's own subscription to the broker where there is one (:mod:`openbwv.live.map_state`), else
of the database, where telemetry arrives from whichever process took it (an HTTP request in any
server process, the in-app MQTT consumer or ``openbwv live consume`` processes), in a short
read-only session. No session is open between reads, however long the browser stays.

The opening read is the audited one (``live:map:viewed``), as a read of the GeoJSON is. The stream
ends after :data:`STREAM_SECONDS`; the browser's ``EventSource`` reconnects on its own, and its
caller is checked again then, so a signed-out or demoted caller stops receiving positions.
"""

from __future__ import annotations

import json
import math
import threading
import time
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import reading, transaction
from openbwv.live.telemetry import CameraState, MapStates, camera_map, current_camera_states
from openbwv.policy import Actor

# How often the stream looks for changes: a message shows on the map within this and a read.
POLL_SECONDS = 0.5
# A heartbeat event this often when nothing changed, so that proxies keep the connection and the
# browser keeps its "seconds ago" against the server's clock.
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
# How long the browser waits before reconnecting, in milliseconds.
RETRY_MS = 1000

Feature = dict[str, Any]


def event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event named ``name`` whose data is ``data`` as JSON on one line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class DatabaseMapStates:
    """The map's cameras as the database has them: the embedded default, where every message
    reaches the database from whichever process took it."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def current(self, *, stale_after: timedelta, now: datetime) -> list[CameraState]:
        with reading(self.factory) as db:
            return current_camera_states(db, stale_after=stale_after, now=now)


class SharedMapRead:
    """The map's current state, read at most once per ``fresh_for`` seconds in a process however
    many browsers' streams ask: a stream's poll then costs a look at the last read, not a read of
    every camera and holder of the force for each open map. A camera whose state, holder and
    staleness are the ones last read keeps its feature (the same object), so only the cameras that
    changed are shaped again and a stream finds them by identity. Called from worker threads."""

    def __init__(
        self,
        source: MapStates,
        *,
        stale_after: timedelta,
        shape: Callable[[CameraState], Feature],
        fresh_for: float = POLL_SECONDS / 2,
    ) -> None:
        self.source, self.stale_after, self.shape, self.fresh_for = source, stale_after, shape, fresh_for
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._shaped: dict[str, tuple[CameraState, Feature]] = {}

    def _shaped_again(self, camera: CameraState) -> tuple[CameraState, Feature]:
        before = self._shaped.get(camera.state.serial)
        if before is not None:
            last = before[0]
            if last.state is camera.state and (
                last.collar_number,
                last.officer_name,
                last.unit,
                last.stale,
            ) == (camera.collar_number, camera.officer_name, camera.unit, camera.stale):
                return before
        return camera, self.shape(camera)

    def features(self) -> list[Feature]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.fresh_for:
                cameras = self.source.current(stale_after=self.stale_after, now=clock.now())
                self._shaped = {c.state.serial: self._shaped_again(c) for c in cameras}
                self._read_at = time.monotonic()
            return [feature for _, feature in self._shaped.values()]


@dataclass(frozen=True)
class MapFeed:
    """The events one browser receives; ``shape`` turns a camera into its GeoJSON feature, and
    ``shared`` is the process's read of the map that every stream polls."""

    factory: sessionmaker[Session]
    actor: Actor
    stale_after: timedelta
    shape: Callable[[CameraState], Feature]
    shared: SharedMapRead
    # Where the audited opening read comes from: None for the database, in the opening's own session.
    opening_source: MapStates | None = None
    poll_seconds: float = POLL_SECONDS
    stream_seconds: float = STREAM_SECONDS

    def _opening(self) -> list[Feature]:
        with transaction(self.factory) as db:
            opened = camera_map(db, self.actor, stale_after=self.stale_after, source=self.opening_source)
        return [self.shape(c) for c in opened]

    def _current(self) -> list[Feature]:
        return self.shared.features()

    async def events(self) -> AsyncIterator[str]:
        """``snapshot`` with every camera, then ``update`` with the cameras that changed (and the
        serials of any gone), or ``heartbeat``; each carries the server's ``now``."""
        features = await anyio.to_thread.run_sync(self._opening)
        sent = {feature["id"]: feature for feature in features}
        yield f"retry: {RETRY_MS}\n" + event(
            "snapshot", {"now": _now(), "type": "FeatureCollection", "features": features}
        )
        started = last = time.monotonic()
        while time.monotonic() - started < self.stream_seconds:
            await anyio.sleep(self.poll_seconds)
            current = {f["id"]: f for f in await anyio.to_thread.run_sync(self._current)}
            changed = [
                feature
                for key, feature in current.items()
                if (before := sent.get(key)) is not feature and before != feature
            ]
            removed = sorted(sent.keys() - current.keys())
            sent = current
            if changed or removed:
                yield event("update", {"now": _now(), "features": changed, "removed": removed})
                last = time.monotonic()
            elif time.monotonic() - last >= HEARTBEAT_SECONDS:
                yield event("heartbeat", {"now": _now()})
                last = time.monotonic()


def _now() -> str:
    return clock.now().isoformat()
