"""The map's latest state kept in each API process's memory, from the process's own subscription to
the broker: how the map scales out through the broker rather than through the database.

With ``OPENBWV_MQTT_URL`` set (and ``OPENBWV_LIVE_MAP_FROM_BROKER``, on by default), every app
process subscribes to ``openbwv/cameras/+/telemetry`` itself, outside the shared subscription, so
the broker hands it every camera's every message. gmqtt's network loop puts each message on a list;
every :data:`APPLY_SECONDS` a worker thread checks the gathered messages as the consumer does
(:func:`openbwv.live.telemetry.parse_reading`) and keeps each camera's newest in
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
import ssl
import threading
import time
import uuid
from collections.abc import AsyncIterator, Callable, Iterable, Sequence
from contextlib import asynccontextmanager, suppress
from datetime import datetime, timedelta
from typing import Any

import anyio
from gmqtt import Client
from sqlalchemy.orm import Session, sessionmaker

from openbwv import clock, fleet
from openbwv.config import Settings
from openbwv.db import reading
from openbwv.domains import ServiceContext
from openbwv.live import telemetry
from openbwv.live.broker import parse_broker_url
from openbwv.live.mqtt import CONNECT_RETRY_SECONDS, TOPIC, serial_from_topic
from openbwv.live.telemetry import CameraState, Holder, Reading
from openbwv.observability import Metrics

log = logging.getLogger(__name__)

# How often the gathered messages are checked and applied: a message is on the map within this and
# the check's own time.
APPLY_SECONDS = 0.05
# Who holds which camera is read again at most this often (an issue or return shows within it).
HOLDERS_FRESH_FOR = 5.0
# A serial not known at the last look is looked up again at most this often.
UNKNOWN_LOOKUP_SECONDS = 0.25

Applied = Callable[[Sequence[Reading], datetime], None]


class LatestPositions:
    """Each camera's newest reading, by the serial its topic names: a later message replaces an
    earlier one only when its own time is newer. Shared between the network loop's worker and the
    map's readers."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._readings: dict[str, Reading] = {}

    def apply(self, readings: Iterable[Reading]) -> list[Reading]:
        """Keep each reading that is newer than its camera's; returns those kept."""
        kept = []
        with self._lock:
            for reading_ in readings:
                before = self._readings.get(reading_.serial)
                if before is None or before.ts < reading_.ts:
                    self._readings[reading_.serial] = reading_
                    kept.append(reading_)
        return kept

    def snapshot(self) -> dict[str, Reading]:
        """Every camera's newest reading now, by serial (a copy)."""
        with self._lock:
            return dict(self._readings)

    def forget(self, serials: Iterable[str]) -> None:
        with self._lock:
            for serial in serials:
                self._readings.pop(serial, None)

    def __len__(self) -> int:
        return len(self._readings)


class BrokerMapStates:
    """The map's cameras from a process's :class:`LatestPositions`, with their holders from the
    database (read at most every ``holders_fresh_for`` seconds, or sooner for a serial not seen
    before). Called from worker threads."""

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
        self._read_at = -float("inf")
        self._cameras: set[str] = set()
        self._unknown: set[str] = set()
        self._holders: dict[str, Holder] = {}

    def _fleet_knows(self, latest: dict[str, Reading]) -> dict[str, Reading]:
        """The readings of the fleet's cameras, reading the fleet again when it is due."""
        with self._lock:
            since = time.monotonic() - self._read_at
            unseen = latest.keys() - self._cameras - self._unknown
            if since >= self.holders_fresh_for or (unseen and since >= self.unknown_lookup_seconds):
                with reading(self.factory) as db:
                    self._cameras = fleet.serials_of_kind(db, "camera")
                    self._holders = telemetry.camera_holders(db)
                self._read_at = time.monotonic()
                self._unknown = latest.keys() - self._cameras
                self.positions.forget(self._unknown)
            cameras = self._cameras
        return {serial: r for serial, r in latest.items() if serial in cameras}

    def current(self, *, stale_after: timedelta, now: datetime) -> list[CameraState]:
        known = self._fleet_knows(self.positions.snapshot())
        ordered = [known[serial] for serial in sorted(known)]
        return telemetry.on_the_map(ordered, self._holders, stale_after=stale_after, now=now)


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
                await self.client.connect(self.broker.host, self.broker.port, ssl=context, keepalive=30)
                return
            except OSError as exc:
                log.warning("MQTT broker unreachable, retrying", extra={"fields": {"error": str(exc)}})
                await asyncio.sleep(CONNECT_RETRY_SECONDS)

    def _on_connect(self, client: Client, flags: int, rc: int, properties: Any) -> None:
        # The latest position wins, so the map asks for no acknowledgement (QoS 0).
        client.subscribe(TOPIC, qos=0)
        log.info("MQTT map subscribed", extra={"fields": {"topic": TOPIC}})

    def _on_message(self, client: Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        self._pending.append((topic, payload))
        return 0

    async def _apply_gathered(self) -> None:
        while True:
            await asyncio.sleep(APPLY_SECONDS)
            if self._pending:
                gathered, self._pending = self._pending, []
                await anyio.to_thread.run_sync(self.apply, gathered)

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
