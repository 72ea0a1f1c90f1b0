"""Messages to a camera: ``openbwv/cameras/{serial}/command`` on the force's MQTT broker.

A ``CameraCommands`` port: with ``OPENBWV_MQTT_URL`` set, each message is published to the broker
(QoS 1, so a camera that is briefly away still gets it when its session resumes); without a broker,
the message is only logged. Sending is called after the request's transaction has committed, from
a background task, never while a database session is held; a broker that cannot be reached loses
the message with a log line and never undoes what was committed. ``send`` answers why a message was
not sent (None once the broker has it), for a caller that records the outcome.
"""

from __future__ import annotations

import json
import logging
import ssl
from typing import Protocol

from paho.mqtt import publish

from openbwv.live.broker import Broker, parse_broker_url

log = logging.getLogger(__name__)

COMMAND_TOPIC = "openbwv/cameras/{serial}/command"
NO_BROKER = "no MQTT broker configured"
CONNECT_TIMEOUT_S = 5


def command_topic(serial: str) -> str:
    """The topic a camera reads its commands from."""
    return COMMAND_TOPIC.format(serial=serial)


class CameraCommands(Protocol):
    """Sends a message to one camera."""

    def send(self, serial: str, message: dict[str, object]) -> str | None:
        """Send ``message`` to the camera ``serial``: None once sent, else why it was not."""
        ...


class LoggedCameraCommands:
    """No broker: the message is logged, and goes nowhere."""

    def send(self, serial: str, message: dict[str, object]) -> str | None:
        log.info("no MQTT broker configured; not sent to camera %s: %s", serial, json.dumps(message))
        return NO_BROKER


class MqttCameraCommands:
    """Publishes each message on the camera's command topic: one short connection per message, since
    messages are rare (a person opening, renewing or ending a live view)."""

    def __init__(self, broker: Broker) -> None:
        self.broker = broker

    def send(self, serial: str, message: dict[str, object]) -> str | None:
        broker = self.broker
        auth: publish.AuthParameter | None = None
        if broker.username:
            auth = {"username": broker.username, "password": broker.password or ""}
        try:
            publish.single(
                command_topic(serial),
                json.dumps(message),
                qos=1,
                hostname=broker.host,
                port=broker.port,
                client_id="",
                keepalive=CONNECT_TIMEOUT_S * 2,
                auth=auth,
                # paho takes an SSLContext here too (its documentation says so; its hint does not).
                tls=ssl.create_default_context() if broker.tls else None,  # type: ignore[arg-type]
            )
        except Exception as exc:  # a send in the background logs its failure and never raises
            log.warning("could not tell camera %s via %s:%s: %s", serial, broker.host, broker.port, exc)
            return f"broker {broker.host}:{broker.port}: {exc}"
        return None


def camera_commands(mqtt_url: str) -> CameraCommands:
    """The force's way of messaging cameras: its broker, or a log line where it has none."""
    if not mqtt_url:
        return LoggedCameraCommands()
    return MqttCameraCommands(parse_broker_url(mqtt_url))
