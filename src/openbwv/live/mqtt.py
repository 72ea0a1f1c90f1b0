"""Telemetry in over MQTT: a consumer of ``openbwv/cameras/{serial}/telemetry``.

How it runs. With ``OPENBWV_MQTT_URL`` set, every app process consumes the broker itself while it
serves (``OPENBWV_LIVE_CONSUME_IN_APP``, on by default); at scale that is turned off in the API
processes and ``openbwv live consume`` processes run instead, as many as the load needs. Every
consumer subscribes through the shared subscription ``$share/openbwv/openbwv/cameras/+/telemetry``,
so the broker hands each message to one of them and adding a process adds capacity.

How it writes. gmqtt's network loop receives messages on the event loop and puts them on a
bounded queue; one drain task takes whatever has gathered (up to :data:`BATCH_MAX`) and hands it to
a worker thread, which checks and stores the batch in one short transaction: no session is open
while it waits for messages. A message the check refuses is counted in ``/metrics`` by reason and
logged; a payload that is not telemetry, a topic that names no camera or a failing batch never
stops the consumer.
"""

from __future__ import annotations

import asyncio
import logging
import signal
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from datetime import timedelta
from typing import Annotated, Any

import anyio
import typer
from gmqtt import Client
from sqlalchemy.orm import Session, sessionmaker

from openbwv.config import Settings, load_settings
from openbwv.db import make_engine, make_session_factory, transaction
from openbwv.domains import ServiceContext
from openbwv.live import telemetry
from openbwv.live.broker import connect_until_reached, parse_broker_url
from openbwv.observability import Metrics

log = logging.getLogger(__name__)

TOPIC = "openbwv/cameras/+/telemetry"
SHARED_TOPIC = f"$share/openbwv/{TOPIC}"  # with the default group (``OPENBWV_LIVE_MQTT_GROUP``)
# Messages stored per transaction, at most.
BATCH_MAX = 2000
# Messages waiting for the database, at most; past it they are dropped and counted (``overloaded``).
QUEUE_MAX = 200_000
TRANSPORT = "mqtt"


_TOPIC_START, _TOPIC_END = "openbwv/cameras/", "/telemetry"


def serial_from_topic(topic: str) -> str | None:
    """The serial a telemetry topic names, or None for any other topic."""
    if not (topic.startswith(_TOPIC_START) and topic.endswith(_TOPIC_END)):
        return None
    serial = topic[len(_TOPIC_START) : -len(_TOPIC_END)]
    return serial if serial and "/" not in serial else None


class TelemetryConsumer:
    """Consumes camera telemetry from the broker into the latest state and the history."""

    def __init__(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        metrics: Metrics,
        *,
        topic: str | None = None,
    ) -> None:
        self.broker = parse_broker_url(settings.mqtt_url)
        self.factory = factory
        self.metrics = metrics
        self.topic = topic or f"$share/{settings.live_mqtt_group}/{TOPIC}"
        self.max_age = timedelta(seconds=settings.live_max_age_seconds)
        self.queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue(maxsize=QUEUE_MAX)
        self.client = Client(f"openbwv-live-{uuid.uuid4().hex[:12]}")
        self.client.on_connect = self._on_connect
        self.client.on_message = self._on_message
        if self.broker.username:
            self.client.set_auth_credentials(self.broker.username, self.broker.password)
        self._tasks: list[asyncio.Task[None]] = []
        self._failures = metrics.counter(
            "openbwv_live_telemetry_failed_total", "Telemetry batches that could not be stored", ()
        )

    async def start(self) -> None:
        """Connect (retrying in the background while the broker is down) and start storing."""
        self._tasks = [asyncio.create_task(self._connect()), asyncio.create_task(self._drain())]

    async def stop(self) -> None:
        """Disconnect, store what has arrived, and stop."""
        with suppress(Exception):
            await self.client.disconnect()
        for task in self._tasks:
            task.cancel()
        for task in self._tasks:
            with suppress(asyncio.CancelledError):
                await task
        while not self.queue.empty():
            await self._store_batch(self._take())

    async def _connect(self) -> None:
        await connect_until_reached(self.client, self.broker)

    def _on_connect(self, client: Client, flags: int, rc: int, properties: Any) -> None:
        # Called on every (re)connection: the subscription is made again each time.
        client.subscribe(self.topic, qos=1)
        log.info("MQTT consumer subscribed", extra={"fields": {"topic": self.topic}})

    def _on_message(self, client: Client, topic: str, payload: bytes, qos: int, properties: Any) -> int:
        serial = serial_from_topic(topic)
        if serial is None:
            self._refuse(topic[:120], "malformed", "not a camera telemetry topic")
        else:
            try:
                self.queue.put_nowait((serial, payload))
            except asyncio.QueueFull:
                self._refuse(serial, "overloaded", "the consumer is behind; message dropped")
        return 0

    def _refuse(self, serial: str, reason: str, message: str) -> None:
        telemetry.count(self.metrics, TRANSPORT, refused=[reason])
        log.info(
            "telemetry refused",
            extra={
                "fields": {"transport": TRANSPORT, "serial": serial[:60], "reason": reason, "why": message}
            },
        )

    def _take(self) -> list[tuple[str, bytes]]:
        batch: list[tuple[str, bytes]] = []
        while len(batch) < BATCH_MAX and not self.queue.empty():
            batch.append(self.queue.get_nowait())
        return batch

    async def _drain(self) -> None:
        while True:
            batch = [await self.queue.get()]
            batch += self._take()
            await self._store_batch(batch)

    async def _store_batch(self, batch: list[tuple[str, bytes]]) -> None:
        try:
            outcome = await anyio.to_thread.run_sync(self._store, batch)
        except Exception:
            # A database that is down or refusing loses this batch, not the consumer.
            self._failures.inc()
            log.exception("telemetry batch not stored", extra={"fields": {"messages": len(batch)}})
            return
        telemetry.count(self.metrics, TRANSPORT, accepted=len(outcome.accepted))
        for refusal in outcome.refused:
            self._refuse(refusal.serial, refusal.reason, refusal.message)

    def _store(self, batch: list[tuple[str, bytes]]) -> telemetry.Outcome:
        with transaction(self.factory) as db:
            return telemetry.receive_readings(db, batch, max_age=self.max_age)


@asynccontextmanager
async def consume_in_app(context: ServiceContext) -> AsyncIterator[None]:
    """The app's own consumer, when a broker is configured and the app is to consume it."""
    settings = context.settings
    if not settings.mqtt_url or not settings.live_consume_in_app:
        yield
        return
    consumer = TelemetryConsumer(settings, context.session_factory, context.metrics)
    await consumer.start()
    try:
        yield
    finally:
        await consumer.stop()


live_app = typer.Typer(
    help="Live telemetry: where cameras are and whether they record.", no_args_is_help=True
)


@live_app.command("consume")
def consume(
    metrics_port: Annotated[
        int, typer.Option(help="Serve this process's Prometheus metrics on this port (0: none).")
    ] = 0,
) -> None:
    """Consume camera telemetry from OPENBWV_MQTT_URL until stopped, sharing the subscription with
    every other consumer."""
    settings = load_settings()
    if not settings.mqtt_url:
        typer.echo("Set OPENBWV_MQTT_URL to the broker (mqtt://host:1883) to consume telemetry.", err=True)
        raise typer.Exit(2)
    factory = make_session_factory(
        make_engine(settings.resolved_database_url, pool_size=settings.database_pool_size)
    )
    metrics = Metrics()
    if metrics_port:
        from prometheus_client import start_http_server

        start_http_server(metrics_port, registry=metrics.registry)
    asyncio.run(_consume_until_stopped(settings, factory, metrics))


async def _consume_until_stopped(
    settings: Settings, factory: sessionmaker[Session], metrics: Metrics
) -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stopped.set)
    consumer = TelemetryConsumer(settings, factory, metrics)
    await consumer.start()
    typer.echo(f"Consuming {consumer.topic}; Ctrl-C to stop.")
    await stopped.wait()
    await consumer.stop()
