"""Messages to cameras: the real Mosquitto broker on this machine, and the logged default."""

from __future__ import annotations

import json
import logging
import queue
import socket
import uuid
from collections.abc import Iterator
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from paho.mqtt import client as mqtt
from sqlalchemy.orm import Session, sessionmaker

from openbwv import fleet
from openbwv.app import create_app
from openbwv.config import ConfigError, Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.live.broker import Broker, parse_broker_url
from openbwv.live.commands import (
    LoggedCameraCommands,
    MqttCameraCommands,
    camera_commands,
    command_topic,
)
from openbwv.policy import SYSTEM, Role
from tests.broker import BROKER, NEEDS_MOSQUITTO, require_broker
from tests.builders import headers_for, make_device, make_officer, make_pass
from tests.conftest import TEST_NOW
from tests.live.conftest import FakeRecordingState


class TestParseBrokerUrl:
    def test_plain_tls_and_credentials(self) -> None:
        assert parse_broker_url("mqtt://broker:1884") == Broker("broker", 1884, tls=False)
        assert parse_broker_url("mqtts://broker") == Broker("broker", 8883, tls=True)
        assert parse_broker_url("mqtt://op%40s:p%3Ass@broker") == Broker(
            "broker", 1883, tls=False, username="op@s", password="p:ss"
        )

    @pytest.mark.parametrize("url", ["http://broker", "mqtt://", "broker:1883"])
    def test_anything_else_is_a_configuration_error(self, url: str) -> None:
        with pytest.raises(ConfigError, match="OPENBWV_MQTT_URL"):
            parse_broker_url(url)

    def test_without_a_broker_messages_are_logged(self, caplog: pytest.LogCaptureFixture) -> None:
        commands = camera_commands("")
        assert isinstance(commands, LoggedCameraCommands)
        with caplog.at_level(logging.INFO, logger="openbwv.live.commands"):
            commands.send("BWV-1", {"type": "being_viewed", "view_id": 1, "until": "x"})
        assert "not sent to camera BWV-1" in caplog.text
        assert isinstance(camera_commands("mqtt://127.0.0.1"), MqttCameraCommands)


class TestUnreachableBroker:
    def test_a_broker_that_cannot_be_reached_loses_the_message_with_a_log_line(
        self, caplog: pytest.LogCaptureFixture
    ) -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]
        commands = MqttCameraCommands(Broker("127.0.0.1", port, tls=False))
        with caplog.at_level(logging.WARNING, logger="openbwv.live.commands"):
            commands.send("BWV-1", {"type": "being_viewed", "view_id": 1, "until": "x"})
        assert "could not tell camera BWV-1" in caplog.text


@pytest.fixture
def subscriber() -> Iterator[tuple[str, queue.Queue[mqtt.MQTTMessage]]]:
    """A client subscribed to a fresh camera's command topic: its serial, and what arrives."""
    require_broker()
    serial = f"BWV-MQTT-{uuid.uuid4().hex[:8].upper()}"
    received: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
    subscribed: queue.Queue[bool] = queue.Queue()
    client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2)
    client.on_message = lambda _c, _u, message: received.put(message)
    client.on_subscribe = lambda *_: subscribed.put(True)
    client.connect(BROKER.host, BROKER.port)
    client.loop_start()
    client.subscribe(command_topic(serial), qos=1)
    subscribed.get(timeout=5)
    yield serial, received
    client.loop_stop()
    client.disconnect()


@NEEDS_MOSQUITTO
class TestThroughTheBroker:
    def test_opening_a_view_tells_the_camera_over_mqtt(
        self,
        settings: Settings,
        factory: sessionmaker[Session],
        recording: FakeRecordingState,
        subscriber: tuple[str, queue.Queue[mqtt.MQTTMessage]],
    ) -> None:
        serial, received = subscriber
        with transaction(factory) as db:
            officer = make_officer(db)
            make_pass(db, officer, "bwv_user")
            make_device(db, serial=serial)
            fleet.issue_device(
                db, SYSTEM, device_serial=serial, collar_number=officer.collar_number, kind="personal"
            )
        recording.cameras[serial] = True
        configured = settings.model_copy(
            update={"mqtt_url": f"mqtt://{BROKER.host}:{BROKER.port}", "live_notify_camera": True}
        )
        with TestClient(
            create_app(configured, factory, jobs=JobRegistry()), base_url="https://testserver"
        ) as client:
            answer = client.post(
                "/api/v1/live/views",
                json={
                    "camera_serial": serial,
                    "reason_code": "critical-incident",
                    "details": "Firearms incident",
                },
                headers=headers_for(factory, Role.CONTROL_ROOM),
            )
        assert answer.status_code == 201, answer.text
        message = received.get(timeout=5)
        assert message.topic == f"openbwv/cameras/{serial}/command"
        assert json.loads(message.payload) == {
            "type": "being_viewed",
            "view_id": answer.json()["id"],
            "until": (TEST_NOW + timedelta(minutes=10)).isoformat(),
        }
