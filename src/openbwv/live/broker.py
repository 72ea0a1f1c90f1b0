"""Where the MQTT broker is: ``OPENBWV_MQTT_URL`` parsed once, for the telemetry consumer and the
camera commands alike."""

from __future__ import annotations

import asyncio
import logging
import ssl
from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from gmqtt import Client
from gmqtt.mqtt.constants import MQTTv311

from openbwv.config import ConfigError

MQTT_PORTS = {"mqtt": 1883, "mqtts": 8883}
# Seconds between attempts to reach a broker that is down when a subscriber starts.
CONNECT_RETRY_SECONDS = 2.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Broker:
    """Where the broker is, parsed from ``OPENBWV_MQTT_URL``."""

    host: str
    port: int
    tls: bool
    username: str | None = None
    password: str | None = None


def parse_broker_url(url: str) -> Broker:
    """``mqtt://[user:password@]host[:port]`` or ``mqtts://…`` (TLS with the system's CA certificates)."""
    parsed = urlparse(url)
    if parsed.scheme not in MQTT_PORTS or not parsed.hostname:
        raise ConfigError(
            f"OPENBWV_MQTT_URL must look like mqtt://host:1883 or mqtts://host:8883, not {url!r}"
        )
    return Broker(
        host=parsed.hostname,
        port=parsed.port or MQTT_PORTS[parsed.scheme],
        tls=parsed.scheme == "mqtts",
        username=unquote(parsed.username) if parsed.username else None,
        password=unquote(parsed.password) if parsed.password else None,
    )


async def connect_until_reached(client: Client, broker: Broker) -> None:
    """Connect ``client`` to ``broker`` over MQTT 3.1.1 (a message then carries no properties to
    parse; Mosquitto shares subscriptions with it too), trying again while the broker is down. gmqtt
    itself reconnects a connection once made; this covers a broker down when a subscriber starts."""
    context = ssl.create_default_context() if broker.tls else False
    while True:
        try:
            await client.connect(broker.host, broker.port, ssl=context, keepalive=30, version=MQTTv311)
            return
        except OSError as exc:
            log.warning("MQTT broker unreachable, retrying", extra={"fields": {"error": str(exc)}})
            await asyncio.sleep(CONNECT_RETRY_SECONDS)
