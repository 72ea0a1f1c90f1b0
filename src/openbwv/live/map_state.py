"""The map's latest state kept in each API process's memory, from the process's own subscription to
the broker: how the map scales out through the broker rather than through the database.

With ``OPENBWV_MQTT_URL`` set (and ``OPENBWV_LIVE_MAP_FROM_BROKER``, on by default), every app
process subscribes to ``openbwv/cameras/+/telemetry`` itself, outside the shared subscription, so
the broker hands it every camera's every message. gmqtt's network loop puts each message on a list;
every :data:`APPLY_SECONDS` a worker thread checks the gathered messages as the consumer does
(:class:`openbwv.live.telemetry.ReadingCheck`) and keeps each camera's newest in
:class:`LatestPositions`. The map's GeoJSON and its server-sent events read that, with who holds
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

import asyncio
import logging
import socket
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet
from openbwv.config import Settings
from openbwv.db import reading
from openbwv.domains import ServiceContext
from openbwv.live import telemetry
from openbwv.live.broker import parse_broker_url
from openbwv.live.mqtt import CONNECT_RETRY_SECONDS, TOPIC, serial_from_topic
from openbwv.live.telemetry import CameraState, Holder, MapChanges, Position, Reading
from openbwv.observability import Metrics

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
# Cameras are looked at for having gone quiet this often.
STALE_SCAN_SECONDS = 1.0

Applied = Callable[[Sequence[Reading], datetime], None]


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


class MapSubscriber:
    """A process's own (not shared) subscription to every camera's telemetry, kept in
    ``positions``; ``applied`` (a benchmark's probe) hears each batch kept and when."""

    def __init__(
        self,
        settings: Settings,
        positions: LatestPositions,
        metrics: Metrics,
        *,
        applied: Applied | None = None,
    ) -> None:
        self.broker = parse_broker_url(settings.mqtt_url)
        self.positions, self.applied = positions, applied
        self.max_age = timedelta(seconds=settings.live_max_age_seconds)
        self._pending: list[tuple[str, bytes]] = []
        self.client = Client(f"openbwv-map-{uuid.uuid4().hex[:12]}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        if self.broker.username:
            self.client.set_auth_credentials(self.broker.username, self.broker.password)
        self._tasks: list[asyncio.Task[None]] = []
        self._ignored = metrics.counter(
            "openbwv_live_map_ignored_total",
            "Telemetry messages the map's own subscription did not show, by reason",
            ("reason",),
        )
        self._lag = metrics.gauge(
            "openbwv_live_map_lag_seconds",
            "Seconds from a camera's message to the map's state, the most of the last batch",
            (),
        )

    async def start(self) -> None:
        """Connect (retrying in the background while the broker is down) and start applying."""
        self._tasks = [asyncio.create_task(self._connect()), asyncio.create_task(self._apply_gathered())]

    async def stop(self) -> None:
        with suppress(Exception):
            await self.client.disconnect()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task

    async def _connect(self) -> None:
        context = ssl.create_default_context() if self.broker.tls else False
        while True:
            try:
                # MQTT 3.1.1: the subscription is not shared, and a message then carries no
                # properties to parse.
                await self.client.connect(
                    self.broker.host, self.broker.port, ssl=context, keepalive=30, version=MQTTv311
                )
                return
            except OSError as exc:
                log.warning("MQTT broker unreachable, retrying", extra={"fields": {"error": str(exc)}})
                await asyncio.sleep(CONNECT_RETRY_SECONDS)

    def _on_connect(self, client: Client, flags: int, rc: int, properties: Any) -> None:
        _widen_receive_buffer(client)
        # The latest position wins, so the map asks for no acknowledgement (QoS 0).
        client.subscribe(TOPIC, qos=0)
        log.info("MQTT map subscribed", extra={"fields": {"topic": TOPIC}})

    def _on_message(self, client: Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        self._pending.append((topic, payload))
        return 0

    async def _apply_gathered(self) -> None:
        # On the event loop, not a worker thread: a thread's turn for the interpreter lock would
        # leave the loop's reads of the socket waiting, and the broker's queue would overflow.
        while True:
            await asyncio.sleep(APPLY_SECONDS)
            if self._pending:
                gathered, self._pending = self._pending, []
                self.apply(gathered)

    def apply(self, messages: Sequence[tuple[str, bytes]]) -> None:
        """Check ``(topic, payload)`` messages and keep each camera's newest."""
        now = clock.now()
        readings = []
        for topic, payload in messages:
            serial = serial_from_topic(topic)
            if serial is None:
                self._ignored.labels("malformed").inc()
                continue
            try:
                readings.append(
                    telemetry.parse_reading(
                        payload, serial=serial.strip().upper(), now=now, max_age=self.max_age
                    )
                )
            except telemetry.TelemetryRefused as refused:
                self._ignored.labels(refused.reason).inc()
        kept = self.positions.apply(readings)
        if kept:
            applied_at = clock.now()
            self._lag.set(max((applied_at - r.ts).total_seconds() for r in kept))
            if self.applied is not None:
                self.applied(kept, applied_at)


def _widen_receive_buffer(client: Client) -> None:
    """Ask for the largest receive buffer the system allows on the client's socket, so that a pause
    of this process (a garbage collection, a long request) leaves the force's messages waiting in
    the kernel rather than in the broker's queue for this client, which drops what overflows it
    (Mosquitto keeps 1,000 by default: 20 ms of a force's telemetry)."""
    transport = getattr(getattr(client, "_connection", None), "_transport", None)
    connection = transport.get_extra_info("socket") if transport is not None else None
    if connection is not None:
        with suppress(OSError):
            connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)


@asynccontextmanager
async def follow_map_in_app(context: ServiceContext) -> AsyncIterator[None]:
    """With a broker, keep the map's state from the process's own subscription while the app
    serves, and leave it where the map's routes read it (``app.state.live_map``)."""
    settings = context.settings
    if not settings.mqtt_url or not settings.live_map_from_broker:
        yield
        return
    positions = LatestPositions()
    context.app_state.live_positions = positions
    context.app_state.live_map = BrokerMapStates(context.session_factory, positions)
    subscriber = MapSubscriber(settings, positions, context.metrics)
    await subscriber.start()
    try:
        yield
    finally:
        await subscriber.stop()
