"""The map's latest state kept in each API process's memory, from the process's own subscription to
the broker: how the map scales out through the broker rather than through the database.

With ``OPENBWV_MQTT_URL`` set (and ``OPENBWV_LIVE_MAP_FROM_BROKER``, on by default), every app
process subscribes to ``openbwv/cameras/+/telemetry`` itself, outside the shared subscription, so
the broker hands it every camera's every message. A child process of its own receives and checks
them as the consumers do (:mod:`openbwv.live.map_subscriber`), and the server keeps each camera's
newest in :class:`LatestPositions`. The map's GeoJSON and its server-sent events read that, with who holds
each camera read from the database at most every :data:`HOLDERS_FRESH_FOR` seconds, so a map read
costs no query per message and no read of a table written 50,000 times a second. The history and
the database's latest state are still written by the consumers sharing the subscription
(:mod:`openbwv.live.mqtt`).

Only the fleet's cameras are shown: a serial the fleet does not know is looked up again (at most
every :data:`UNKNOWN_LOOKUP_SECONDS`), so a camera registered a moment ago appears at once, and
forgotten at the next look while still unknown, so a stream of made-up serials cannot fill memory.
Refused messages are counted by the consumers in ``openbwv_live_telemetry_refused_total``; here
they are counted apart (``openbwv_live_map_ignored_total``) so nothing is counted twice.

Telemetry a camera POSTs over HTTP while a broker is configured reaches the database and the map of
the process that took it; with a broker, cameras publish over MQTT.
"""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.db import reading
from openbwv.domains import ServiceContext
from openbwv.live import telemetry
from openbwv.live.map_subscriber import Applied, MapSubscriber
from openbwv.live.telemetry import CameraState, Holder, MapChanges, Position, Reading

log = logging.getLogger(__name__)

# How often the gathered messages are checked and applied: a message is on the map within this and
# the check's own time.
APPLY_SECONDS = 0.05
# Who holds which camera is read again at most this often (an issue or return shows within it).
HOLDERS_FRESH_FOR = 5.0
# A serial not known at the last look is looked up again at most this often.
UNKNOWN_LOOKUP_SECONDS = 0.25
# The subscription's socket buffer asked for (the system caps it at net.core.rmem_max).
RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024
# The first generation of the garbage collector runs after this many allocations while the map is
# kept (Python's default: 700).
COLLECT_EVERY_ALLOCATIONS = 50_000
# Cameras are looked at for having gone quiet this often.
STALE_SCAN_SECONDS = 1.0


class LatestPositions:
    """Each camera's newest reading, by the serial its topic names: a later message replaces an
    earlier one only when its own time is newer. Shared between the subscriber, which applies, and
    the map's one reader, which takes what changed since it last asked."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readings: dict[str, Reading] = {}
        self._changed: dict[str, Reading] = {}

    def apply(self, readings: Iterable[Reading]) -> list[Reading]:
        """Keep each reading that is newer than its camera's; returns those kept."""
        kept = []
        with self._lock:
            for reading_ in readings:
                before = self._readings.get(reading_.serial)
                if before is None or before.ts < reading_.ts:
                    self._readings[reading_.serial] = self._changed[reading_.serial] = reading_
                    kept.append(reading_)
        return kept

    def take_changed(self) -> dict[str, Reading]:
        """The newest reading of each camera that changed since the last take."""
        with self._lock:
            changed, self._changed = self._changed, {}
            return changed

    def snapshot(self) -> dict[str, Reading]:
        """Every camera's newest reading now, by serial (a copy)."""
        with self._lock:
            return dict(self._readings)

    def forget(self, serials: Iterable[str]) -> None:
        with self._lock:
            for serial in serials:
                self._readings.pop(serial, None)
                self._changed.pop(serial, None)


class BrokerMapStates:
    """The map's cameras from a process's :class:`LatestPositions`, with their holders from the
    database (read at most every ``holders_fresh_for`` seconds, or sooner for a serial not seen
    before). Each call says which cameras changed since the last: a new reading, a new holder, or
    gone quiet (looked for every :data:`STALE_SCAN_SECONDS`), so the map's read costs what moved.
    Asked by one reader, the process's shared read of the map."""

    def __init__(
        self,
        factory: sessionmaker[Session],
        positions: LatestPositions,
        *,
        holders_fresh_for: float = HOLDERS_FRESH_FOR,
        unknown_lookup_seconds: float = UNKNOWN_LOOKUP_SECONDS,
    ) -> None:
        self.factory, self.positions = factory, positions
        self.holders_fresh_for, self.unknown_lookup_seconds = holders_fresh_for, unknown_lookup_seconds
        self._lock = threading.Lock()
        self._read_at = self._scanned_at = -float("inf")
        self._cameras: set[str] = set()
        self._unknown: set[str] = set()
        self._holders: dict[str, Holder] = {}
        self._states: dict[str, CameraState] = {}
        # Readings of serials not yet looked up in the fleet, kept until the next look.
        self._waiting: dict[str, Reading] = {}

    def _read_fleet(self) -> tuple[set[str], set[str]]:
        """Read the fleet's cameras and holders again: the serials whose holder changed, and the
        shown serials no longer cameras."""
        with reading(self.factory) as db:
            cameras = fleet.serials_of_kind(db, "camera")
            holders = telemetry.camera_holders(db)
        self._read_at = time.monotonic()
        moved = {s for s in self._states if self._holders.get(s) != holders.get(s)}
        self._cameras, self._holders = cameras, holders
        return moved, self._states.keys() - cameras

    def changes(self, *, stale_after: timedelta, now: datetime) -> MapChanges:
        with self._lock:
            arrived = self._waiting | self.positions.take_changed()
            touched: set[str] = set()
            removed: set[str] = set()
            since = time.monotonic() - self._read_at
            unseen = arrived.keys() - self._cameras - self._unknown
            if since >= self.holders_fresh_for or (unseen and since >= self.unknown_lookup_seconds):
                touched, removed = self._read_fleet()
                self._unknown = arrived.keys() - self._cameras
                self.positions.forget(self._unknown)
                unseen = set()
            self._waiting = {serial: arrived[serial] for serial in unseen}
            for serial in removed:
                del self._states[serial]
            stale_before = now - stale_after
            if time.monotonic() - self._scanned_at >= STALE_SCAN_SECONDS:
                self._scanned_at = time.monotonic()
                touched |= {s for s, c in self._states.items() if (c.state.ts < stale_before) != c.stale}
            positions: dict[str, Position] = {s: self._states[s].state for s in touched}
            positions |= {s: r for s, r in arrived.items() if s in self._cameras}
            for camera in telemetry.on_the_map(
                positions.values(), self._holders, stale_after=stale_after, now=now
            ):
                self._states[camera.state.serial] = camera
            return MapChanges(states=self._states, changed=set(positions), removed=removed)


@asynccontextmanager
async def follow_map_in_app(
    context: ServiceContext, *, applied: Applied | None = None
) -> AsyncIterator[None]:
    """With a broker, keep the map's state from the process's own subscription while the app
    serves, and leave it where the map's routes read it (``app.state.live_map``, and the
    positions at ``app.state.live_positions``); ``applied`` is a benchmark's probe.

    Meanwhile the process's garbage collector looks at new objects every
    :data:`COLLECT_EVERY_ALLOCATIONS` allocations rather than 700: keeping the map makes and drops
    a few objects per message, and at the usual rate the collections moved them on to full
    collections of the whole heap, each holding the process for tens of milliseconds (see
    docs/PERFORMANCE.md)."""
    settings = context.settings
    if not settings.mqtt_url or not settings.live_map_from_broker:
        yield
        return
    positions = LatestPositions()
    context.app_state.live_positions = positions
    context.app_state.live_map = BrokerMapStates(context.session_factory, positions)
    subscriber = MapSubscriber(settings, positions.apply, context.metrics, applied=applied)
    thresholds = gc.get_threshold()
    gc.set_threshold(COLLECT_EVERY_ALLOCATIONS, *thresholds[1:])
    await subscriber.start()
    try:
        yield
    finally:
        await subscriber.stop()
        gc.set_threshold(*thresholds)
