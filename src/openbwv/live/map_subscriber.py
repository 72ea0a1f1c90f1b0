"""A server process's own subscription to every camera's telemetry, run in a child process of its
own.

Receiving a force's telemetry costs the interpreter about 8 µs a message in the MQTT client and 3 µs
in the check: at 50,000 messages a second, more than half a core, which would leave the server's
requests and the map's own work waiting for the interpreter lock, and the broker's queue for this
subscriber overflowing while they wait. So the child does that part: it subscribes (MQTT 3.1.1, QoS
0, not shared: the broker hands it every message), checks each message as the consumers do
(:class:`openbwv.live.telemetry.ReadingCheck`, all but the time window, which the server applies
with its own clock) and every :data:`APPLY_SECONDS` sends the readings
that passed and the count of those that did not, in one MessagePack frame, down a pipe. In the
server a thread reads the pipe and keeps each camera's newest reading in
:class:`openbwv.live.map_state.LatestPositions`: about a microsecond a reading.

The child ends when the server stops it, when the pipe closes, or when its parent is gone.
"""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import socket
import threading
import uuid
from collections import Counter
from collections.abc import Callable, Sequence
from contextlib import suppress
from datetime import datetime, timedelta
from multiprocessing.connection import Connection
from typing import Any

import anyio
import msgspec
from gmqtt import Client

from openbwv import clock
from openbwv.config import Settings
from openbwv.live import telemetry
from openbwv.live.broker import Broker, connect_until_reached, parse_broker_url
from openbwv.live.mqtt import TOPIC, serial_from_topic
from openbwv.live.telemetry import Reading
from openbwv.observability import Metrics

log = logging.getLogger(__name__)

# How often the child sends what it gathered: a message is on the map within this and the checks.
APPLY_SECONDS = 0.05
# The subscription's socket buffer asked for (the system caps it at net.core.rmem_max), so that a
# pause leaves messages in the kernel rather than in the broker's queue for this client, which drops
# what overflows it (Mosquitto keeps 1,000 by default: 20 ms of a force's telemetry).
RECEIVE_BUFFER_BYTES = 16 * 1024 * 1024
# How long the server waits for the child to end once told to.
STOP_SECONDS = 5.0

Frame = tuple[list[Reading], dict[str, int]]
Applied = Callable[[Sequence[Reading], datetime], None]

_decode_frame = msgspec.msgpack.Decoder(Frame).decode


def check_messages(
    messages: Sequence[tuple[str, bytes]], check: telemetry.ReadingCheck
) -> tuple[list[Reading], Counter[str]]:
    """The readings of ``(topic, payload)`` messages that pass the check, and the others counted
    by reason."""
    readings: list[Reading] = []
    ignored: Counter[str] = Counter()
    for topic, payload in messages:
        serial = serial_from_topic(topic)
        if serial is None:
            ignored["malformed"] += 1
            continue
        try:
            readings.append(check(payload, serial=serial.strip().upper()))
        except telemetry.TelemetryRefused as refused:
            ignored[refused.reason] += 1
    return readings, ignored


class _ChildSubscription:
    """The child's side: subscribe, check and send."""

    def __init__(self, broker: Broker, max_age: timedelta, out: Connection) -> None:
        self.broker, self.out = broker, out
        # The server's clock may not be this process's (a test's, a shifted one): the time window
        # is the server's to apply.
        self.check = telemetry.ReadingCheck(now=None, max_age=max_age)
        self.parent = os.getppid()
        self.pending: list[tuple[str, bytes]] = []
        self.client = Client(f"openbwv-map-{uuid.uuid4().hex[:12]}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        if broker.username:
            self.client.set_auth_credentials(broker.username, broker.password)

    def _on_connect(self, client: Client, flags: int, rc: int, properties: Any) -> None:
        transport = getattr(getattr(client, "_connection", None), "_transport", None)
        connection = transport.get_extra_info("socket") if transport is not None else None
        if connection is not None:
            with suppress(OSError):
                connection.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, RECEIVE_BUFFER_BYTES)
        # The latest position wins, so the map asks for no acknowledgement (QoS 0).
        client.subscribe(TOPIC, qos=0)

    def _on_message(self, client: Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        self.pending.append((topic, payload))
        return 0

    async def _connect(self) -> None:
        await connect_until_reached(self.client, self.broker)

    async def run(self) -> None:
        connecting = asyncio.create_task(self._connect())
        try:
            while os.getppid() == self.parent:
                await asyncio.sleep(APPLY_SECONDS)
                if not self.pending:
                    continue
                gathered, self.pending = self.pending, []
                readings, ignored = check_messages(gathered, self.check)
                self.out.send_bytes(msgspec.msgpack.encode((readings, dict(ignored))))
        except (BrokenPipeError, ConnectionResetError):
            return
        finally:
            connecting.cancel()
            with suppress(Exception):
                await self.client.disconnect()


def _run_child(mqtt_url: str, max_age_seconds: float, out: Connection) -> None:
    subscription = _ChildSubscription(parse_broker_url(mqtt_url), timedelta(seconds=max_age_seconds), out)
    asyncio.run(subscription.run())


class MapSubscriber:
    """The server's side: the child, and the thread that keeps what it sends in ``positions``;
    ``applied`` (a benchmark's probe) hears each batch kept and when."""

    def __init__(
        self,
        settings: Settings,
        apply: Callable[[Sequence[Reading]], Sequence[Reading]],
        metrics: Metrics,
        *,
        applied: Applied | None = None,
    ) -> None:
        self.settings, self.apply, self.applied = settings, apply, applied
        self.max_age = timedelta(seconds=settings.live_max_age_seconds)
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
        self.received = 0
        self._process: multiprocessing.process.BaseProcess | None = None
        self._thread: threading.Thread | None = None

    @property
    def child_pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        """Start the child (connecting, and retrying while the broker is down) and the reader."""
        spawn = multiprocessing.get_context("spawn")
        receiving, sending = spawn.Pipe(duplex=False)
        self._process = spawn.Process(
            target=_run_child,
            args=(self.settings.mqtt_url, self.settings.live_max_age_seconds, sending),
            name="openbwv-map-subscription",
            daemon=True,
        )
        await anyio.to_thread.run_sync(self._process.start)
        sending.close()
        self._thread = threading.Thread(
            target=self._receive, args=(receiving,), name="openbwv-map-receiver", daemon=True
        )
        self._thread.start()

    async def stop(self) -> None:
        if self._process is None:
            return
        self._process.terminate()
        await anyio.to_thread.run_sync(self._process.join, STOP_SECONDS)
        if self._thread is not None:
            await anyio.to_thread.run_sync(self._thread.join)

    def _receive(self, receiving: Connection) -> None:
        with receiving:
            while True:
                try:
                    frame = receiving.recv_bytes()
                except (EOFError, OSError):
                    return
                self.take(frame)

    def take(self, frame: bytes) -> None:
        """Keep the readings of one frame from the child and count what it ignored."""
        rows, ignored = _decode_frame(frame)
        now = clock.now()
        counted = Counter(ignored)
        readings = []
        for row in rows:
            refusal = telemetry.time_refusal(row.ts, now=now, max_age=self.max_age)
            if refusal is None:
                readings.append(row)
            else:
                counted[refusal] += 1
        for reason, count in counted.items():
            self._ignored.labels(reason).inc(count)
        self.received += len(rows) + sum(ignored.values())
        kept = self.apply(readings)
        if kept:
            applied_at = clock.now()
            self._lag.set(max((applied_at - r.ts).total_seconds() for r in kept))
            if self.applied is not None:
                self.applied(kept, applied_at)
