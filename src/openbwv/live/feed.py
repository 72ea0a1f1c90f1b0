"""The map's server-sent events: every camera's state when a browser connects, then what changed.

Telemetry reaches the database from whichever process took it (an HTTP request in any server
process, the in-app MQTT consumer or ``openbwv live consume`` processes), so the database is where a
change is seen: every :data:`POLL_SECONDS` the stream looks at every camera's state, read in a
short read-only session at most every half poll by one read the process's streams share
(:class:`SharedMapRead`), and sends the cameras that differ from what it last sent (a newer message,
or a camera gone quiet). No session is open between reads, however long the browser stays.

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
from datetime import timedelta
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import reading, transaction
from openbwv.live.telemetry import CameraState, camera_map, current_camera_states
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


class SharedMapRead:
    """The map's current state, read at most once per ``fresh_for`` seconds in a process however
    many browsers' streams ask: a stream's poll then costs a look at the last read, not a read of
    every camera and holder of the force for each open map. Called from worker threads."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        *,
        stale_after: timedelta,
        shape: Callable[[CameraState], Feature],
        fresh_for: float = POLL_SECONDS / 2,
    ) -> None:
        self.factory, self.stale_after, self.shape, self.fresh_for = factory, stale_after, shape, fresh_for
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._features: list[Feature] = []

    def features(self) -> list[Feature]:
        with self._lock:
            if time.monotonic() - self._read_at >= self.fresh_for:
                with reading(self.factory) as db:
                    states = current_camera_states(db, stale_after=self.stale_after)
                    self._features = [self.shape(c) for c in states]
                self._read_at = time.monotonic()
            return self._features


@dataclass(frozen=True)
class MapFeed:
    """The events one browser receives; ``shape`` turns a camera into its GeoJSON feature, and
    ``shared`` is the process's read of the map that every stream polls."""

    factory: sessionmaker[Session]
    actor: Actor
    stale_after: timedelta
    shape: Callable[[CameraState], Feature]
    shared: SharedMapRead
    poll_seconds: float = POLL_SECONDS
    stream_seconds: float = STREAM_SECONDS

    def _opening(self) -> list[Feature]:
        with transaction(self.factory) as db:
            return [self.shape(c) for c in camera_map(db, self.actor, stale_after=self.stale_after)]

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
            changed = [feature for key, feature in current.items() if sent.get(key) != feature]
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
