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
from collections import deque
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock
from openbwv.db import reading, transaction
from openbwv.live.telemetry import (
    CameraState,
    MapChanges,
    MapRead,
    MapStates,
    camera_map,
    current_camera_states,
)
from openbwv.policy import Actor

# How often the stream looks for changes: a message shows on the map within this and a read.
POLL_SECONDS = 0.5
# A heartbeat event this often when nothing changed, so that proxies keep the connection and the
# browser keeps its "seconds ago" against the server's clock.
HEARTBEAT_SECONDS = 15.0
STREAM_SECONDS = 300.0
# How long the browser waits before reconnecting, in milliseconds.
RETRY_MS = 1000
# Reads with a change kept for the streams to catch up from (ten seconds' worth at four a second).
CHANGES_KEPT = 40


def event(name: str, data: dict[str, Any]) -> str:
    """One server-sent event named ``name`` whose data is ``data`` as JSON on one line."""
    return f"event: {name}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


class DatabaseMapStates:
    """The map's cameras as the database has them: the embedded default, where every message
    reaches the database from whichever process took it. It cannot tell what changed, so the
    shared read compares."""

    def __init__(self, factory: sessionmaker[Session]) -> None:
        self.factory = factory

    def changes(self, *, stale_after: timedelta, now: datetime) -> MapChanges:
        with reading(self.factory) as db:
            cameras = current_camera_states(db, stale_after=stale_after, now=now)
        return MapChanges(states={c.state.serial: c for c in cameras}, changed=None)


class SharedMapRead:
    """The map's current state, read at most once per ``fresh_for`` seconds in a process however
    many browsers' streams ask, and kept as each camera's GeoJSON feature. Each read that finds a
    change gets a version; a stream asks what changed since the version it last had
    (:meth:`since`), so a poll costs what moved, not a look at every camera of the force. Only the
    cameras the source says changed are shaped again (a source that cannot tell is compared).
    Called from worker threads."""

    def __init__(
        self,
        source: MapStates,
        *,
        stale_after: timedelta,
        shape: Callable[[CameraState], str],
        fresh_for: float = POLL_SECONDS / 2,
        history: int = CHANGES_KEPT,
    ) -> None:
        self.source, self.stale_after, self.shape, self.fresh_for = source, stale_after, shape, fresh_for
        self._lock = threading.Lock()
        self._read_at = -math.inf
        self._states: Mapping[str, CameraState] = {}
        self._features: dict[str, str] = {}
        self.version = 0
        self._log: deque[tuple[int, frozenset[str], frozenset[str]]] = deque(maxlen=history)

    def _read_if_due(self) -> None:
        if time.monotonic() - self._read_at < self.fresh_for:
            return
        found = self.source.changes(stale_after=self.stale_after, now=clock.now())
        if found.changed is None:
            shaped = {serial: self.shape(camera) for serial, camera in found.states.items()}
            changed = {serial for serial, feature in shaped.items() if self._features.get(serial) != feature}
            removed = self._features.keys() - shaped.keys()
            self._features = shaped
        else:
            changed, removed = found.changed, found.removed
            for serial in removed:
                self._features.pop(serial, None)
            for serial in changed:
                self._features[serial] = self.shape(found.states[serial])
        self._states = found.states
        self._read_at = time.monotonic()
        if changed or removed:
            self.version += 1
            self._log.append((self.version, frozenset(changed), frozenset(removed)))

    def current(self, *, stale_after: timedelta, now: datetime) -> list[CameraState]:
        """Every camera on the map as last read (for the audited reads: the GeoJSON, a stream's
        opening); the read's own staleness applies."""
        with self._lock:
            self._read_if_due()
            return list(self._states.values())

    def since(self, version: int) -> tuple[int, dict[str, str], set[str] | None]:
        """The version now, the features (JSON, by serial) that changed since ``version`` and the
        serials gone; None for the serials gone when ``version`` is older than the changes kept,
        and then every feature is given."""
        with self._lock:
            self._read_if_due()
            if version == self.version:
                return version, {}, set()
            if not self._log or self._log[0][0] > version + 1:
                return self.version, dict(self._features), None
            changed: set[str] = set()
            removed: set[str] = set()
            for logged, serials, gone in self._log:
                if logged > version:
                    changed |= serials
                    removed |= gone
            features = {serial: self._features[serial] for serial in changed if serial in self._features}
            return self.version, features, removed - self._features.keys()


@dataclass(frozen=True)
class MapFeed:
    """The events one browser receives; ``shape`` writes a camera as its GeoJSON feature in JSON,
    and ``shared`` is the process's read of the map that every stream polls."""

    factory: sessionmaker[Session]
    actor: Actor
    stale_after: timedelta
    shape: Callable[[CameraState], str]
    shared: SharedMapRead
    # Where the audited opening read comes from: None for the database, in the opening's own session.
    opening_source: MapRead | None = None
    poll_seconds: float = POLL_SECONDS
    stream_seconds: float = STREAM_SECONDS

    def _opening(self) -> tuple[int, dict[str, str]]:
        # The version is taken first: a change during the opening is sent again, never missed.
        version = self.shared.version
        with transaction(self.factory) as db:
            opened = camera_map(db, self.actor, stale_after=self.stale_after, source=self.opening_source)
        return version, {c.state.serial: self.shape(c) for c in opened}

    async def events(self) -> AsyncIterator[str]:
        """``snapshot`` with every camera, then ``update`` with the cameras that changed (and the
        serials of any gone), or ``heartbeat``; each carries the server's ``now``."""
        version, features = await anyio.to_thread.run_sync(self._opening)
        shown = set(features)
        yield f"retry: {RETRY_MS}\n" + _features_event(
            "snapshot", '"type":"FeatureCollection"', features.values()
        )
        started = last = time.monotonic()
        while time.monotonic() - started < self.stream_seconds:
            await anyio.sleep(self.poll_seconds)
            version, changed, removed = await anyio.to_thread.run_sync(self.shared.since, version)
            if removed is None:
                removed = shown - changed.keys()
            shown = (shown - removed) | changed.keys()
            if changed or removed:
                gone = json.dumps(sorted(removed))
                yield _features_event("update", f'"removed":{gone}', changed.values())
                last = time.monotonic()
            elif time.monotonic() - last >= HEARTBEAT_SECONDS:
                yield event("heartbeat", {"now": _now()})
                last = time.monotonic()


def _features_event(name: str, member: str, features: Iterable[str]) -> str:
    """An event whose data holds the server's ``now``, ``member`` (JSON) and ``features`` (each a
    feature in JSON already, shared by every stream)."""
    return (
        f'event: {name}\ndata: {{"now":{json.dumps(_now())},{member},"features":[{",".join(features)}]}}\n\n'
    )


def _now() -> str:
    return clock.now().isoformat()
