"""Telemetry through the real Mosquitto broker: a camera's message reaches the map within a second,
garbage is dropped and counted, and the consumer keeps running.

Outside CI a broker that cannot be reached skips these tests; under CI it fails them.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from gmqtt import Client
from sqlalchemy.orm import Session, sessionmaker
from typer.testing import CliRunner

from openbwv import clock
from openbwv.app import create_app
from openbwv.cli import app as cli
from openbwv.config import ConfigError, Settings
from openbwv.db import transaction
from openbwv.jobs import JobRegistry
from openbwv.live.broker import Broker, parse_broker_url
from openbwv.live.mqtt import serial_from_topic
from openbwv.policy import Role
from tests.broker import BROKER, MQTT_URL, NEEDS_MOSQUITTO, require_broker
from tests.builders import headers_for, make_device
from tests.live.helpers import CAMERAS, payload

# Every consumer these tests start hears every camera's telemetry on the broker, and some count what
# they refused: under `pytest -n`, one worker runs them all, so no other test's messages are counted.
pytestmark = pytest.mark.xdist_group("mqtt-telemetry")


@pytest.fixture
def live_client(database_url: str, tmp_path: Path, factory: sessionmaker[Session]) -> Iterator[TestClient]:
    """The app with its MQTT consumer running, in a subscription group of the test's own (so that
    other consumers of the same broker take none of its messages)."""
    require_broker()
    settings = Settings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        secret_key="test-secret",
        mqtt_url=MQTT_URL,
        live_mqtt_group=f"test-{uuid.uuid4().hex[:12]}",
    )
    app = create_app(settings, factory, jobs=JobRegistry())
    with TestClient(app, base_url="https://testserver", client=("127.0.0.1", 40000)) as client:
        yield client


def publish(messages: list[tuple[str, bytes]]) -> None:
    async def send() -> None:
        client = Client(f"openbwv-test-{uuid.uuid4().hex[:8]}")
        await client.connect(BROKER.host, BROKER.port)
        for topic, body in messages:
            client.publish(topic, body, qos=1)
        await asyncio.sleep(0.05)
        await client.disconnect()

    asyncio.run(send())


def topic(serial: str) -> str:
    return f"openbwv/cameras/{serial}/telemetry"


def wait_for_camera(client: TestClient, headers: dict[str, str], serial: str, *, within: float) -> float:
    """Seconds until ``serial`` is on the map, failing past ``within``."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        features = client.get(CAMERAS, headers=headers).json()["features"]
        if any(f["id"] == serial for f in features):
            return time.monotonic() - started
        time.sleep(0.02)
    pytest.fail(f"{serial} did not reach the map within {within} s")


def warm_up(client: TestClient, factory: sessionmaker[Session], headers: dict[str, str]) -> None:
    """Publish until a camera arrives: then the consumer has connected and subscribed."""
    serial = f"WARM-{uuid.uuid4().hex[:6].upper()}"
    with transaction(factory) as db:
        make_device(db, serial=serial)
    for _ in range(50):
        publish([(topic(serial), json.dumps(payload()).encode())])
        features = client.get(CAMERAS, headers=headers).json()["features"]
        if any(f["id"] == serial for f in features):
            return
        time.sleep(0.1)
    pytest.fail("the consumer never took a message")


def counted(metrics: str, reason: str) -> float:
    found = re.search(
        rf'openbwv_live_telemetry_refused_total\{{reason="{reason}",transport="mqtt"\}} (\S+)', metrics
    )
    return float(found.group(1)) if found else 0.0


class TestBrokerAddress:
    def test_plain_tls_and_credentials(self) -> None:
        assert parse_broker_url("mqtt://broker:1884") == Broker("broker", 1884, False, None, None)
        assert parse_broker_url("mqtts://user:p%40ss@broker") == Broker("broker", 8883, True, "user", "p@ss")
        with pytest.raises(ConfigError):
            parse_broker_url("http://broker")

    def test_the_serial_comes_from_the_topic(self) -> None:
        assert serial_from_topic("openbwv/cameras/CAM-1/telemetry") == "CAM-1"
        assert serial_from_topic("openbwv/cameras//telemetry") is None
        assert serial_from_topic("openbwv/cameras/CAM-1/command") is None


@NEEDS_MOSQUITTO
class TestConsumer:
    def test_a_published_message_reaches_the_map_within_a_second(
        self, live_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.CONTROL_ROOM)
        warm_up(live_client, factory, headers)
        serial = f"CAM-{uuid.uuid4().hex[:6].upper()}"
        with transaction(factory) as db:
            make_device(db, serial=serial)
        publish([(topic(serial), json.dumps(payload(recording=True)).encode())])
        waited = wait_for_camera(live_client, headers, serial, within=1.0)
        [feature] = [
            f for f in live_client.get(CAMERAS, headers=headers).json()["features"] if f["id"] == serial
        ]
        assert feature["properties"]["recording"] is True
        assert waited < 1.0

    def test_garbage_is_dropped_and_counted_and_the_consumer_keeps_going(
        self, live_client: TestClient, factory: sessionmaker[Session]
    ) -> None:
        headers = headers_for(factory, Role.CONTROL_ROOM)
        warm_up(live_client, factory, headers)
        serial = f"CAM-{uuid.uuid4().hex[:6].upper()}"
        with transaction(factory) as db:
            make_device(db, serial=serial)
        before = live_client.get("/metrics").text
        garbage = [
            b"",
            b"not json",
            b"\x00\xff" * 100,
            b"{" * 10_000,
            json.dumps(payload(lat=float("nan"))).encode(),
            json.dumps(payload(at=clock.now() - timedelta(hours=1))).encode(),
        ]
        publish(
            [(topic(serial), body) for body in garbage]
            + [(topic("NOT-IN-FLEET"), json.dumps(payload()).encode())]
            + [(topic(serial), json.dumps(payload()).encode())]
        )
        wait_for_camera(live_client, headers, serial, within=2.0)
        after = live_client.get("/metrics").text
        assert counted(after, "malformed") - counted(before, "malformed") >= 4
        assert counted(after, "impossible") - counted(before, "impossible") >= 1
        assert counted(after, "stale") - counted(before, "stale") >= 1
        assert counted(after, "unknown_camera") - counted(before, "unknown_camera") >= 1
        assert live_client.get("/healthz").json()["status"] == "ok"


class TestConsumeCommand:
    def test_it_needs_a_broker(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.delenv("OPENBWV_MQTT_URL", raising=False)
        result = CliRunner().invoke(cli, ["live", "consume"])
        assert result.exit_code != 0
        assert "OPENBWV_MQTT_URL" in result.output
