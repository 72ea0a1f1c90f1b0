"""Where the MQTT broker is: ``OPENBWV_MQTT_URL`` parsed once, for the telemetry consumer and the
camera commands alike."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlparse

from openbwv.config import ConfigError

MQTT_PORTS = {"mqtt": 1883, "mqtts": 8883}


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
